// A Corefile as a tree of lines: blocks are a header line ending in `{`, their lines, and a
// closing `}` line. Printing gives back the exact text, so every line the merge does not
// touch stays as it was (comments, spacing, order). Layouts with a `{` or `}` in the middle
// of a line are refused rather than guessed.
import { isIP } from 'node:net';
import { ModuleError } from '../../engine/types.js';

export type CorefileNode = { kind: 'line'; text: string } | { kind: 'block'; header: string; children: CorefileNode[]; close: string };

/** The code of a line: comment removed (a `#` outside quotes starts one), trimmed. */
function code(text: string): string {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === '#' && !quoted) return text.slice(0, i).trim();
  }
  return text.trim();
}

function count(s: string, ch: string): number {
  return s.split(ch).length - 1;
}

export function parseCorefile(text: string): CorefileNode[] {
  const root: CorefileNode[] = [];
  const stack: { node: Extract<CorefileNode, { kind: 'block' }>; line: number }[] = [];
  const lines = text.split('\n');
  lines.forEach((text, i) => {
    const c = code(text);
    const target = stack.length ? stack[stack.length - 1].node.children : root;
    const opens = count(c, '{');
    const closes = count(c, '}');
    if (opens === 1 && closes === 0 && c.endsWith('{')) {
      const node = { kind: 'block' as const, header: text, children: [], close: '' };
      target.push(node);
      stack.push({ node, line: i + 1 });
    } else if (c === '}') {
      const open = stack.pop();
      if (!open) throw new ModuleError(`Corefile line ${i + 1}: '}' without a block to close`);
      open.node.close = text;
    } else if (opens || closes) {
      throw new ModuleError(`Corefile line ${i + 1}: braces inside a line are not supported; put '{' at the end of a line and '}' on its own line`);
    } else {
      target.push({ kind: 'line', text });
    }
  });
  if (stack.length) throw new ModuleError(`Corefile line ${stack[stack.length - 1].line}: block is never closed`);
  return root;
}

export function printCorefile(nodes: CorefileNode[]): string {
  return flatten(nodes).join('\n');
}

function flatten(nodes: CorefileNode[]): string[] {
  return nodes.flatMap((n) => (n.kind === 'line' ? [n.text] : [n.header, ...flatten(n.children), n.close]));
}

function words(text: string): string[] {
  return code(text)
    .replace(/\{$/, '')
    .split(/[\s,]+/)
    .filter(Boolean);
}

function indentOf(text: string): string {
  return /^\s*/.exec(text)![0];
}

export interface HostsEntry {
  ip: string;
  names: string[];
}

/**
 * Ensures `hosts { IP name... fallthrough }` inside the server block `server` (".:53"):
 * an existing hosts block gets exactly these entries (its options and comments stay),
 * otherwise a new block goes after the `kubernetes` block (or before `forward`, or last).
 */
export function ensureHostsBlock(corefile: string, server: string, entries: HostsEntry[]): string {
  for (const e of entries) if (!isIP(e.ip)) throw new ModuleError(`hosts entry ${e.names.join(' ')}: '${e.ip}' is not an IP address`);
  const tree = parseCorefile(corefile);
  const block = tree.find((n): n is Extract<CorefileNode, { kind: 'block' }> => n.kind === 'block' && words(n.header).includes(server));
  if (!block) throw new ModuleError(`the Corefile has no '${server} { ... }' server block`);

  const sibling = block.children.find((n) => code(n.kind === 'line' ? n.text : n.header) !== '');
  const indent = sibling ? indentOf(sibling.kind === 'line' ? sibling.text : sibling.header) : '    ';
  const inner = indent + nestedStep(block.children, indent);
  const entryLines = entries.map((e) => `${inner}${e.ip} ${e.names.join(' ')}`);

  const index = block.children.findIndex((n) => words(n.kind === 'line' ? n.text : n.header)[0] === 'hosts');
  if (index === -1) {
    block.children.splice(insertionPoint(block.children), 0, {
      kind: 'block',
      header: `${indent}hosts {`,
      children: [...entryLines, `${inner}fallthrough`].map((text) => ({ kind: 'line' as const, text })),
      close: `${indent}}`,
    });
  } else {
    block.children[index] = mergeHosts(block.children[index], entryLines, inner);
  }
  return printCorefile(tree);
}

/** The extra indentation of lines inside nested blocks (kubeadm uses 3, the blog 2); 4 by default. */
function nestedStep(children: CorefileNode[], indent: string): string {
  for (const n of children) {
    if (n.kind !== 'block') continue;
    const child = n.children.find((c) => c.kind === 'line' && code(c.text) !== '');
    if (child && child.kind === 'line') {
      const own = indentOf(child.text);
      if (own.length > indent.length && own.startsWith(indent)) return own.slice(indent.length);
    }
  }
  return '    ';
}

function insertionPoint(children: CorefileNode[]): number {
  const first = (name: string) => children.findIndex((n) => words(n.kind === 'line' ? n.text : n.header)[0] === name);
  const kubernetes = first('kubernetes');
  if (kubernetes !== -1) return kubernetes + 1;
  const forward = first('forward');
  if (forward !== -1) return forward;
  return children.length;
}

function mergeHosts(node: CorefileNode, entryLines: string[], inner: string): CorefileNode {
  const block = node.kind === 'block' ? node : { kind: 'block' as const, header: `${node.text.replace(/\s+$/, '')} {`, children: [], close: `${indentOf(node.text)}}` };
  const isEntry = (n: CorefileNode) => n.kind === 'line' && isIP(words(n.text)[0] ?? '') !== 0;
  const firstEntry = block.children.findIndex(isEntry);
  const kept = block.children.filter((n) => !isEntry(n));
  const at = firstEntry === -1 ? 0 : block.children.slice(0, firstEntry).filter((n) => !isEntry(n)).length;
  const children = [...kept.slice(0, at), ...entryLines.map((text) => ({ kind: 'line' as const, text })), ...kept.slice(at)];
  const hasFallthrough = children.some((n) => n.kind === 'line' && words(n.text)[0] === 'fallthrough');
  if (!hasFallthrough) children.push({ kind: 'line', text: `${inner}fallthrough` });
  return { ...block, children };
}
