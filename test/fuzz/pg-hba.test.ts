// Property tests of plinth's pg_hba.conf parser and printer (modules/postgres/hba.ts): no input
// crashes them (only ModuleError, the declared error), a valid rule survives print → parse, and a
// file goes parse → render → parse → render without drifting (the second run changes nothing).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ModuleError } from '../../engine/types.js';
import { HBA_METHODS, HBA_TYPES, beginMarker, endMarker, formatEntry, parseEntry, parseHbaFile, renderHbaFile, validateEntry, type HbaEntry } from '../../modules/postgres/hba.js';

const RUNS = { numRuns: 300 };
const MARKER = 'plinth managed';

/** Only the declared error: anything else is a crash. */
function onlyModuleErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ModuleError)) throw e;
  }
}

// Text made of pg_hba-like pieces, so that random input reaches the interesting branches.
const hbaishChar = fc.constantFrom(...'hostlcaldb all,"#\t /.:0123456789abcdef=-\n'.split(''), 'samenet', 'scram-sha-256', 'local ', 'host ', '# BEGIN plinth managed', '# END plinth managed');
const hbaishText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.array(hbaishChar, { maxLength: 80 }).map((a) => a.join('')),
);

const bareName = fc.stringMatching(/^[a-z_][a-z0-9_$-]{0,10}$/).filter((s) => !['all', 'sameuser', 'samerole', 'replication'].includes(s) || true);
// A quoted name may hold spaces, commas, '#' (part of the name inside quotes) and doubled quotes.
const quotedName = fc.stringMatching(/^[a-z ,.+=#]{1,8}$/).map((s) => `"${s}"`);
const quotedWithQuote = fc.stringMatching(/^[a-z]{1,4}$/).map((s) => `"${s}""x"`);
const name = fc.oneof(bareName, quotedName, quotedWithQuote, fc.constantFrom('all', 'replication', '+admins', '@users.txt'));
const nameList = fc.array(name, { minLength: 1, maxLength: 3 }).map((a) => a.join(','));

const ipv4 = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, bits]) => `${ip}/${bits}`);
const ipv6 = fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([ip, bits]) => `${ip}/${bits}`);
const hostname = fc.domain().filter((d) => d.length < 60);
const address = fc.oneof(ipv4, ipv6, hostname, fc.constantFrom('all', 'samehost', 'samenet', '.example.org'));

const option = fc.oneof(
  fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[a-z0-9=]{1,8}$/)).map(([k, v]) => `${k}=${v}`),
  fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[a-z0-9 ,=]{1,8}$/)).map(([k, v]) => `${k}="${v}"`),
);
const options = fc.option(
  fc.array(option, { minLength: 1, maxLength: 3 }).map((a) => a.join(' ')),
  { nil: undefined },
);

const validEntry: fc.Arbitrary<HbaEntry> = fc
  .record({ type: fc.constantFrom(...HBA_TYPES), database: nameList, user: nameList, address, method: fc.constantFrom(...HBA_METHODS), options })
  .map((e) => (e.type === 'local' ? { ...e, address: undefined } : e));

describe('pg_hba parser (fuzz)', () => {
  test('parseEntry takes any line: an entry or null, never an exception', () => {
    fc.assert(
      fc.property(hbaishText, (line) => {
        const e = parseEntry(line);
        if (e !== null) expect((HBA_TYPES as readonly string[]).includes(e.type)).toBe(true);
      }),
      RUNS,
    );
  });

  test('validateEntry and parseHbaFile fail only with ModuleError', () => {
    const anyEntry = fc.record({
      type: fc.oneof(fc.constantFrom(...HBA_TYPES), fc.string()),
      database: fc.string(),
      user: fc.string(),
      address: fc.option(fc.string(), { nil: undefined }),
      method: fc.oneof(fc.constantFrom(...HBA_METHODS), fc.string()),
      options: fc.option(fc.string(), { nil: undefined }),
    });
    fc.assert(
      fc.property(anyEntry, fc.nat(), (e, i) => onlyModuleErrors(() => validateEntry(e, i))),
      RUNS,
    );
    fc.assert(
      fc.property(hbaishText, (text) => onlyModuleErrors(() => parseHbaFile(text, MARKER))),
      RUNS,
    );
  });

  test('a valid rule is valid, and print → parse gives it back', () => {
    fc.assert(
      fc.property(validEntry, (e) => {
        validateEntry(e, 0);
        expect(parseEntry(formatEntry(e))).toEqual(e);
      }),
      RUNS,
    );
  });

  test('file: parse → render → parse keeps the rules; rendering again changes nothing; lines outside the block stay', () => {
    // Surrounding lines: comments, blank lines and rules written by hand (never markers).
    const otherLine = fc.oneof(
      fc.constant(''),
      fc.stringMatching(/^# [a-z ]{0,20}$/),
      validEntry.map(formatEntry),
      fc.constantFrom('local   all   postgres   peer', 'host all all 0.0.0.0/0 scram-sha-256  # generic'),
    );
    fc.assert(
      fc.property(fc.array(otherLine, { maxLength: 8 }), fc.array(validEntry, { maxLength: 5 }), fc.array(validEntry, { maxLength: 5 }), (lines, first, second) => {
        const original = lines.length ? `${lines.join('\n')}\n` : '';
        const once = renderHbaFile(parseHbaFile(original, MARKER), first, MARKER);
        const parsed = parseHbaFile(once, MARKER);
        expect(parsed.managed).toEqual(first);
        expect(renderHbaFile(parsed, parsed.managed, MARKER)).toBe(once);
        // A second run with other rules replaces the block in place.
        const twice = renderHbaFile(parsed, second, MARKER);
        expect(parseHbaFile(twice, MARKER).managed).toEqual(second);
        // Every line outside the block is the user's, in order (a blank separator may be added).
        const outside = (text: string) => {
          const ls = text.split('\n');
          const b = ls.indexOf(beginMarker(MARKER));
          const e = ls.indexOf(endMarker(MARKER));
          return (b < 0 ? ls : [...ls.slice(0, b), ...ls.slice(e + 1)]).filter((l) => l !== '');
        };
        expect(outside(twice)).toEqual(outside(original));
      }),
      RUNS,
    );
  });
});
