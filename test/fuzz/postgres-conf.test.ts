// Property tests of plinth's postgresql.conf editor (modules/postgres/conf.ts): parseConf takes
// any text, setConfValues never crashes, a value set is the value read back, setting again
// changes nothing, other settings keep their values, and parse → print → parse is stable.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseConf, setConfValues, SECTION_END, SECTION_START } from '../../modules/postgres/conf.js';
import { formatValue, unquoteValue } from '../../modules/postgres/values.js';

const RUNS = { numRuns: 300 };

const settingName = fc.oneof(
  fc.constantFrom('max_connections', 'wal_level', 'listen_addresses', 'shared_buffers', 'hot_standby', 'primary_conninfo', 'Port', 'include'),
  fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}(\.[a-z_][a-z0-9_]{0,6})?$/),
);
const VALUE_CHARS = [...'az09 =\'"\\#,.-_$\t', 'é', '漢', '\n', '\r'];
// Values as the module receives them, line breaks included (written as \n and \r escapes).
const value = fc.oneof(
  fc.boolean(),
  fc.integer({ min: -1e6, max: 1e9 }),
  fc.constantFrom('256MB', '5min', 'replica', "it's", 'a\\b', '', ' padded ', 'on', '#not a comment', "host=10.0.0.1 password='x'"),
  fc.string({ maxLength: 20, unit: fc.constantFrom(...VALUE_CHARS) }),
  fc.string({ maxLength: 10, unit: 'binary' }),
);

/** The text a value stands for once read back from the file. */
function readBack(v: string | number | boolean): string {
  return unquoteValue(formatValue(v));
}

// postgresql.conf-like lines: settings in both spellings, commented defaults, comments, includes, junk.
const confLine = fc.oneof(
  fc
    .tuple(settingName, fc.constantFrom(' = ', '=', ' ', '  =  '), value.map(formatValue), fc.option(fc.constantFrom('# why', '\t\t# (change requires restart)'), { nil: undefined }))
    .map(([n, sep, v, c]) => `${n}${sep}${v}${c ? ` ${c}` : ''}`),
  fc.tuple(settingName, value.map(formatValue)).map(([n, v]) => `#${n} = ${v}\t\t# default`),
  fc.constantFrom('', '# a comment', "include_dir = 'conf.d'", SECTION_START, SECTION_END, '   ', 'garbage line with words', "x = 'unclosed"),
  fc.string({ maxLength: 30 }),
);
const confText = fc.array(confLine, { maxLength: 12 }).map((ls) => ls.join('\n'));

// Names differ also in case: `Port` and `port` are one setting.
const settingValues = fc
  .dictionary(
    settingName.filter((n) => n !== 'include'),
    value,
    { maxKeys: 4 },
  )
  .filter((v) => new Set(Object.keys(v).map((k) => k.toLowerCase())).size === Object.keys(v).length);

describe('postgresql.conf parser (fuzz)', () => {
  test('parseConf takes any text without an exception; every setting it finds is on its line', () => {
    fc.assert(
      fc.property(fc.oneof(confText, fc.string({ maxLength: 300 })), (text) => {
        const lines = text.split('\n');
        for (const s of parseConf(text).values()) expect(lines[s.line]).toContain(s.name);
      }),
      RUNS,
    );
  });

  test('set → parse reads back each value; setting again changes nothing; other settings keep their values', () => {
    fc.assert(
      fc.property(confText, settingValues, (text, values) => {
        const out = setConfValues(text, values);
        const after = parseConf(out);
        for (const [n, v] of Object.entries(values)) expect(after.get(n.toLowerCase())?.value).toBe(readBack(v));
        expect(setConfValues(out, values)).toBe(out);
        const before = parseConf(text);
        const changed = new Set(Object.keys(values).map((n) => n.toLowerCase()));
        for (const [n, s] of before) if (!changed.has(n)) expect(after.get(n)?.value).toBe(s.value);
      }),
      RUNS,
    );
  });

  test('parse → print → parse is stable (printing with no change keeps every setting and line)', () => {
    fc.assert(
      fc.property(confText, (text) => {
        const printed = setConfValues(text, {});
        expect(parseConf(printed)).toEqual(parseConf(text));
        expect(setConfValues(printed, {})).toBe(printed);
      }),
      RUNS,
    );
  });
});
