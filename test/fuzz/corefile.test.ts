// Property tests of the Corefile hosts block (modules/k8s/corefile.ts), beyond the generated-tree
// round trip of test/unit/k8s/corefile.test.ts: arbitrary text parses or fails with ModuleError
// and prints back byte for byte; ensureHostsBlock never crashes, its output parses, holds exactly
// the entries, leaves everything outside the server block alone, and a second run changes nothing.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ModuleError } from '../../engine/types.js';
import { ensureHostsBlock, parseCorefile, printCorefile, type CorefileNode, type HostsEntry } from '../../modules/k8s/corefile.js';

const RUNS = { numRuns: 300 };

const corefileChar = fc.constantFrom(...'{}#" \t\n.:53abc'.split(''), 'hosts', 'fallthrough', '10.0.0.1', '.:53 {', '}\n');
const anyText = fc.oneof(fc.string({ maxLength: 120 }), fc.string({ unit: corefileChar, maxLength: 40 }));

const word = fc.stringMatching(/^[a-z][a-z0-9.:_/-]{0,8}$/).filter((w) => w !== 'hosts');
const plugin = fc.tuple(fc.array(word, { minLength: 1, maxLength: 3 }), fc.option(fc.constantFrom('# note', '# a {brace}'), { nil: undefined })).map(([ws, c]) => `${ws.join(' ')}${c ? ` ${c}` : ''}`);
const hostsEntry: fc.Arbitrary<HostsEntry> = fc.record({
  ip: fc.oneof(fc.ipV4(), fc.ipV6()),
  names: fc.array(
    fc.domain().filter((d) => d.length < 40),
    { minLength: 1, maxLength: 2 },
  ),
});

/** A Corefile with a `.:53` server block among others; the block may already have a hosts block. */
const corefile = fc
  .record({
    before: fc.array(plugin, { maxLength: 2 }),
    indent: fc.constantFrom('  ', '    ', '\t'),
    step: fc.constantFrom('  ', '   ', '    '),
    plugins: fc.array(
      fc.oneof(
        plugin.map((p) => [p]),
        fc.tuple(word, fc.array(plugin, { maxLength: 2 })).map(([h, body]) => [`${h} {`, ...body, '}']),
      ),
      { maxLength: 5 },
    ),
    existing: fc.option(fc.tuple(fc.array(hostsEntry, { maxLength: 2 }), fc.uniqueArray(fc.constantFrom('ttl 60', 'reload 10s', '# lab names', 'fallthrough'), { maxLength: 2 })), { nil: undefined }),
    other: fc.boolean(),
  })
  .map(({ before, indent, step, plugins, existing, other }) => {
    const lines: string[] = [];
    if (other) lines.push('example.org:53 {', `${indent}forward . 8.8.8.8`, '}');
    lines.push(...before.map((p) => `# ${p}`), '.:53 {');
    const nested = (ls: string[]) => ls.map((l, i) => (i === 0 ? indent + l : i === ls.length - 1 && l === '}' ? indent + l : indent + step + l));
    for (const p of plugins) lines.push(...nested(p));
    if (existing) {
      const [entries, extras] = existing;
      lines.push(...nested(['hosts {', ...entries.map((e) => `${e.ip} ${e.names.join(' ')}`), ...extras, '}']));
    }
    lines.push('}', '');
    return lines.join('\n');
  });

/** The lines of the text outside the `.:53` server block. */
function outside(text: string): string[] {
  const tree = parseCorefile(text);
  return tree.flatMap((n: CorefileNode) => (n.kind === 'block' && n.header.trim().startsWith('.:53') ? [] : printCorefile([n]).split('\n')));
}

describe('Corefile hosts block (fuzz)', () => {
  test('any text: parses and prints back byte for byte, or fails with a ModuleError naming a line', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        let tree: CorefileNode[];
        try {
          tree = parseCorefile(text);
        } catch (e) {
          if (!(e instanceof ModuleError)) throw e;
          expect(e.message).toMatch(/^Corefile line \d+: /);
          return;
        }
        expect(printCorefile(tree)).toBe(text);
      }),
      RUNS,
    );
  });

  test('ensureHostsBlock on any text and any entries: a result or a ModuleError', () => {
    const entries = fc.array(fc.record({ ip: fc.oneof(fc.ipV4(), fc.string({ maxLength: 8 })), names: fc.array(word, { maxLength: 2 }) }), { maxLength: 3 });
    fc.assert(
      fc.property(fc.oneof(anyText, corefile), entries, (text, es) => {
        try {
          ensureHostsBlock(text, '.:53', es);
        } catch (e) {
          if (!(e instanceof ModuleError)) throw e;
        }
      }),
      RUNS,
    );
  });

  test('the merged Corefile parses, holds exactly the entries once, keeps the rest, and merging again changes nothing', () => {
    fc.assert(
      fc.property(corefile, fc.array(hostsEntry, { minLength: 1, maxLength: 4 }), (text, entries) => {
        const merged = ensureHostsBlock(text, '.:53', entries);
        const tree = parseCorefile(merged);
        expect(printCorefile(tree)).toBe(merged);
        expect(ensureHostsBlock(merged, '.:53', entries)).toBe(merged);
        const server = tree.find((n) => n.kind === 'block' && n.header.trim().startsWith('.:53'));
        expect(server?.kind).toBe('block');
        const hosts = (server as Extract<CorefileNode, { kind: 'block' }>).children.filter((n) => n.kind === 'block' && n.header.trim().startsWith('hosts'));
        expect(hosts).toHaveLength(1);
        const lines = (hosts[0] as Extract<CorefileNode, { kind: 'block' }>).children.map((n) => (n.kind === 'line' ? n.text.trim() : ''));
        expect(lines.filter((l) => /^[0-9a-f:.]+ /.test(l) && !l.startsWith('#'))).toEqual(entries.map((e) => `${e.ip} ${e.names.join(' ')}`));
        expect(lines.filter((l) => l === 'fallthrough')).toHaveLength(1);
        expect(outside(merged)).toEqual(outside(text));
      }),
      RUNS,
    );
  });
});
