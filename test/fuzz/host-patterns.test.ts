// Property tests of inventory host patterns (engine/run/patterns.ts selectHosts): any pattern
// gives hosts of the inventory or a PatternError, never another exception; the result is in
// inventory order without duplicates; `a:b`, `a:&b`, `a:!b` are union, intersection and
// difference; and the selection printed back as a pattern selects itself (parse → print → parse).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Inventory } from '../../engine/load/inventory.js';
import { PatternError, selectHosts } from '../../engine/run/patterns.js';

const RUNS = { numRuns: 300 };

const hostName = fc.stringMatching(/^[a-z][a-z0-9.-]{0,8}$/).filter((h) => !['all', 'localhost', 'ungrouped'].includes(h));
const groupName = fc.stringMatching(/^g[A-Z0-9_]{1,5}$/); // never a host name (those are lower case)

/** An inventory of distinct host names in groups (group names never look like host names). */
const inventory = fc
  .tuple(
    fc.uniqueArray(hostName, { minLength: 1, maxLength: 8 }),
    fc.uniqueArray(groupName, { maxLength: 4 }),
    fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 12 }),
    fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 3 }),
  )
  .map(([hosts, groups, memberships, nesting]) => {
    const inv = new Inventory('fuzz');
    for (const h of hosts) inv.addHost('ungrouped', h, {});
    for (const g of groups) inv.addChild('all', g);
    if (groups.length) {
      for (const [h, g] of memberships) inv.addHost(groups[g % groups.length], hosts[h % hosts.length], {});
      // Parents before children in the list: groups never form a loop (an inventory error).
      for (const [p, c] of nesting) if (p % groups.length < c % groups.length) inv.addChild(groups[p % groups.length], groups[c % groups.length]);
    }
    inv.addChild('all', 'ungrouped');
    return { inv, hosts, groups };
  });

type Fixture = { inv: Inventory; hosts: string[]; groups: string[] };

/** A term that names something: a host, a group, all, a glob or a regular expression. */
const term = (f: Fixture) =>
  fc.oneof(
    fc.constantFrom(...f.hosts),
    f.groups.length ? fc.constantFrom(...f.groups) : fc.constant('all'),
    fc.constantFrom('all', '*', 'nohost'),
    fc.constantFrom(...f.hosts).map((h) => `${h.slice(0, 2)}*`),
    fc.constantFrom(...f.hosts).map((h) => `~^${h[0]}`),
    fc.constantFrom(...f.hosts).map((h) => `${h[0]}?${h.slice(2)}`),
  );

const patternChars = fc.constantFrom(...'ab*?[]()~!&:,^$.+|\\{} -'.split(''), 'all', 'g', 'localhost');
const anyPattern = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: patternChars, maxLength: 12 }));

const set = (xs: string[]) => new Set(xs);

describe('host patterns: globs as fnmatch', () => {
  const inv = new Inventory('globs');
  for (const h of ['web1', 'web2', 'web3', 'db[1]', 'x]']) inv.addHost('ungrouped', h, {});
  test.each([
    ['w?b[12]*', ['web1', 'web2']],
    ['web[!1]', ['web2', 'web3']],
    ['we[a-c][!3]', ['web1', 'web2']],
    ['db[[]1]', ['db[1]']],
    ['db[*', ['db[1]']],
    ['x]*', ['x]']],
    ['web[3-1]', []],
  ])('%s selects %j', (pattern, hosts) => {
    expect(selectHosts(inv, pattern)).toEqual(hosts);
  });
});

describe('host patterns: subscripts as Ansible applies them', () => {
  const inv = new Inventory('subscripts');
  for (const h of ['pg1', 'r1', 'r2', 'r3', 'r4']) inv.addHost(h === 'pg1' ? 'primary' : 'replicas', h, {});
  inv.addChild('pg', 'primary');
  inv.addChild('pg', 'replicas');
  test.each([
    ['replicas[0]', ['r1']],
    ['replicas[-1]', ['r4']],
    ['replicas[1:2]', ['r2', 'r3']],
    ['replicas[2:]', ['r3', 'r4']],
    ['replicas[9]', []],
    ['replicas[0]:primary', ['pg1', 'r1']],
    ['pg[0:1],!pg1', ['r1']],
    ['r*[1]', ['r2']],
    ['~^r[0-9]', ['r1', 'r2', 'r3', 'r4']],
    ['pg:&replicas[1:]', ['r2', 'r3', 'r4']],
  ])('%s selects %j', (pattern, hosts) => {
    expect(selectHosts(inv, pattern)).toEqual(hosts);
  });
});

describe('host patterns (fuzz)', () => {
  test('any pattern: hosts of the inventory (or the implicit localhost), in order, no duplicates; or a PatternError', () => {
    fc.assert(
      fc.property(inventory, anyPattern, ({ inv }, pattern) => {
        let selected: string[];
        try {
          selected = selectHosts(inv, pattern);
        } catch (e) {
          if (e instanceof PatternError) return;
          throw e;
        }
        const order = [...inv.hosts.keys(), 'localhost'];
        expect(selected.every((h) => order.includes(h))).toBe(true);
        expect(new Set(selected).size).toBe(selected.length);
        const positions = selected.map((h) => order.indexOf(h));
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
      }),
      RUNS,
    );
  });

  test('a:b is the union, a:&b the intersection, a:!b the difference (in any separator, , or :)', () => {
    fc.assert(
      fc.property(
        inventory.chain((f) => fc.tuple(fc.constant(f), term(f), term(f), fc.constantFrom(':', ','))),
        ([f, a, b, sep]) => {
          const A = set(selectHosts(f.inv, a));
          const B = set(selectHosts(f.inv, b));
          expect(set(selectHosts(f.inv, `${a}${sep}${b}`))).toEqual(new Set([...A, ...B]));
          expect(set(selectHosts(f.inv, `${a}${sep}&${b}`))).toEqual(new Set([...A].filter((h) => B.has(h))));
          expect(set(selectHosts(f.inv, `${a}${sep}!${b}`))).toEqual(new Set([...A].filter((h) => !B.has(h))));
          expect(set(selectHosts(f.inv, `!${b}`))).toEqual(new Set([...f.inv.hosts.keys()].filter((h) => !B.has(h))));
        },
      ),
      RUNS,
    );
  });

  test('parse → print → parse: the selected hosts, written as a pattern, select exactly themselves', () => {
    fc.assert(
      fc.property(
        inventory.chain((f) => fc.tuple(fc.constant(f), fc.array(term(f), { minLength: 1, maxLength: 3 }))),
        ([f, terms]) => {
          const selected = selectHosts(f.inv, terms.join(':'));
          fc.pre(selected.length > 0);
          const printed = selected.join(',');
          expect(selectHosts(f.inv, printed)).toEqual(selected);
          expect(selectHosts(f.inv, selectHosts(f.inv, printed).join(':'))).toEqual(selected);
        },
      ),
      RUNS,
    );
  });
});
