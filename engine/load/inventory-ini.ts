// INI inventories in Ansible's grammar: `[group]` sections of host lines
// (`pg1 ansible_host=10.0.0.11 ansible_port=2222`, `web[01:10]`), `[group:vars]` of key=value
// lines, `[group:children]` of group names; `#` and `;` start comment lines. Values are typed as
// Ansible types them (Python literals: 5, True, [1, 2]; anything else stays text).
import type { Inventory } from './inventory.js';
import { SourceError, type Where } from './yaml.js';
import { hostPatternAt } from './host-ranges.js';
import { pythonLiteral } from './python-literal.js';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

interface Pending {
  line: number;
  kind: 'vars' | 'children';
  parents: string[];
}

export function readIniInventory(inv: Inventory, file: string, text: string): void {
  const at = (line: number, col = 1): Where => ({ file, line, col });
  // Groups named by :vars or :children before their own section; each must get one in this file.
  const pending = new Map<string, Pending>();
  let group = 'ungrouped';
  let kind: 'hosts' | 'vars' | 'children' = 'hosts';
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (!line || line[0] === '#' || line[0] === ';') return;
    const section = SECTION.exec(line);
    if (section) {
      group = section[1];
      const state = section[2] ?? 'hosts';
      if (state !== 'hosts' && state !== 'vars' && state !== 'children') {
        throw new SourceError(`inventory: section [${group}:${state}] has an unknown type '${state}' (hosts, vars or children)`, at(lineNo));
      }
      kind = state;
      if (!inv.groups.has(group) && kind === 'vars' && !pending.has(group)) pending.set(group, { line: lineNo, kind: 'vars', parents: [] });
      inv.group(group);
      const waiting = pending.get(group);
      if (waiting && kind !== 'vars') {
        if (waiting.kind === 'children') addPendingChildren(inv, group, pending, at(lineNo));
        else pending.delete(group);
      }
      return;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      throw new SourceError(`inventory: invalid section '${line}': a section is [group], [group:vars] or [group:children], without spaces`, at(lineNo));
    }
    const col = raw.indexOf(line[0]) + 1;
    if (kind === 'hosts') readHostLine(inv, group, line, at(lineNo, col));
    else if (kind === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) throw new SourceError(`inventory: expected key=value in [${group}:vars], got '${line}'`, at(lineNo, col));
      inv.setGroupVar(group, line.slice(0, eq).trim(), pythonLiteral(line.slice(eq + 1).trim()));
    } else {
      const child = GROUP_NAME.exec(line)?.[1];
      if (!child) throw new SourceError(`inventory: expected a group name in [${group}:children], got '${line}'`, at(lineNo, col));
      if (inv.groups.has(child)) inv.addChild(group, child, at(lineNo, col));
      else {
        const waiting = pending.get(child);
        if (waiting) waiting.parents.push(group);
        else pending.set(child, { line: lineNo, kind: 'children', parents: [group] });
      }
    }
  });
  for (const [name, p] of pending) {
    if (p.kind === 'vars') throw new SourceError(`inventory: section [${name}:vars] is for a group that is never defined: ${name}`, at(p.line));
    throw new SourceError(`inventory: section [${p.parents[p.parents.length - 1]}:children] names a group that is never defined: ${name}`, at(p.line));
  }
}

function addPendingChildren(inv: Inventory, group: string, pending: Map<string, Pending>, where: Where): void {
  for (const parent of pending.get(group)!.parents) {
    inv.addChild(parent, group, where);
    if (pending.get(parent)?.kind === 'children') addPendingChildren(inv, parent, pending, where);
  }
  pending.delete(group);
}

/** `pattern key=value ...`, split as a POSIX shell would (quotes, backslashes, `#` comments). */
function readHostLine(inv: Inventory, group: string, line: string, where: Where): void {
  const tokens = shellWords(line, where);
  if (tokens.length === 0) return;
  if (tokens[0].trim() === '---') throw new SourceError(`inventory: host '---' looks like the start of a YAML file; name YAML inventories *.yml`, where);
  const { hosts, port } = hostPatternAt(tokens[0], where);
  const vars: Record<string, unknown> = {};
  for (const token of tokens.slice(1)) {
    const eq = token.indexOf('=');
    if (eq < 0) throw new SourceError(`inventory: expected key=value host variable, got '${token}'`, where);
    vars[token.slice(0, eq)] = pythonLiteral(token.slice(eq + 1));
  }
  for (const host of hosts) {
    inv.addHost(group, host, port === undefined ? {} : { ansible_port: port });
    for (const [key, value] of Object.entries(vars)) inv.setHostVar(host, key, value);
  }
}

/** Python's shlex.split(line, comments=True): words, quotes removed, `#` ends the line outside quotes. */
function shellWords(line: string, where: Where): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === '#') {
      break;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new SourceError(`inventory: a backslash at the end of '${line}' escapes nothing`, where);
      word = (word ?? '') + line[++i];
    } else if (c === "'" || c === '"') {
      const end = quotedEnd(line, i);
      if (end < 0) throw new SourceError(`inventory: no closing quotation in '${line}'`, where);
      let body = line.slice(i + 1, end);
      if (c === '"') body = body.replace(/\\(["\\])/g, '$1');
      word = (word ?? '') + body;
      i = end;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** Index of the quote closing the one at `start` (inside "...", \" and \\ do not close it). */
function quotedEnd(line: string, start: number): number {
  const q = line[start];
  for (let i = start + 1; i < line.length; i++) {
    if (q === '"' && line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) i++;
    else if (line[i] === q) return i;
  }
  return -1;
}
