// Property tests of plinth's .env reader (modules/k8s/dotenv.ts, dotenv's parser plus plinth's
// line checks): no input crashes it (only ModuleError), its errors never show a value, every key
// it returns points at the line that assigns it, and values go print → parse → print unchanged.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ModuleError } from '../../engine/types.js';
import { parseEnvFile } from '../../modules/k8s/dotenv.js';

const RUNS = { numRuns: 300 };
const SECRET = 'Zq7secretValue';

const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/);
const valueChar = fc.constantFrom(...'ab $#=:\'"`\\\n\t-./@%'.split(''), 'é', 'x');
const value = fc.string({ unit: valueChar, maxLength: 16 });

// .env-like text: assignments in every quoting style, comments, export, junk, unclosed quotes.
const envLine = fc.oneof(
  fc.tuple(key, fc.constantFrom('=', ' = ', ': '), value).map(([k, sep, v]) => `${k}${sep}${v}`),
  fc.tuple(key, value, fc.constantFrom("'", '"', '`')).map(([k, v, q]) => `${k}=${q}${v}${q}`),
  fc.tuple(key, value).map(([k, v]) => `export ${k}="${v}" # note`),
  fc.constantFrom('', '# comment', '   ', 'not an assignment', 'A="open', "B='x", '=novalue', 'export'),
  fc.string({ maxLength: 20 }),
);
const envText = fc.array(envLine, { maxLength: 10 }).map((ls) => ls.join(fc.sample(fc.constantFrom('\n', '\r\n'), 1)[0]));

/** How a user writes a value so that it reads back unchanged; null when no quoting can hold it. */
function quoted(v: string): string | null {
  // dotenv expands \n and \r in double quotes, and a backslash before a closing quote escapes it.
  if (!v.includes("'") && !v.endsWith('\\')) return `'${v}'`;
  if (!/["\\]/.test(v)) return `"${v}"`;
  if (!/[`\\]/.test(v)) return `\`${v}\``;
  return null;
}

function print(values: Map<string, string>): string | null {
  const lines: string[] = [];
  for (const [k, v] of values) {
    const q = quoted(v);
    if (q === null) return null;
    lines.push(`${k}=${q}`);
  }
  return lines.join('\n') + '\n';
}

function tryParse(text: string): Map<string, string> | ModuleError {
  try {
    return new Map([...parseEnvFile(text, 'app.env')].map(([k, e]) => [k, e.value]));
  } catch (e) {
    if (e instanceof ModuleError) return e;
    throw e;
  }
}

describe('.env reader (fuzz)', () => {
  test('any text: values or a ModuleError naming the file and line, never another exception', () => {
    fc.assert(
      fc.property(fc.oneof(envText, fc.string({ maxLength: 200 })), (text) => {
        const r = tryParse(text);
        if (r instanceof ModuleError) expect(r.message).toMatch(/^app\.env:\d+: /);
      }),
      RUNS,
    );
  });

  test('an error never shows a value', () => {
    const withSecret = fc.tuple(envText, key, fc.constantFrom('', '#', '"', "'", ' x#y'), fc.nat(10)).map(([text, k, junk, at]) => {
      const lines = text.split('\n');
      lines.splice(Math.min(at, lines.length), 0, `${k}=${SECRET}${junk}`);
      return lines.join('\n');
    });
    fc.assert(
      fc.property(withSecret, (text) => {
        const r = tryParse(text);
        if (r instanceof ModuleError) expect(r.message).not.toContain(SECRET);
      }),
      RUNS,
    );
  });

  test("every key read points at its assignment's line (plinth's line scan agrees with dotenv)", () => {
    fc.assert(
      fc.property(envText, (text) => {
        let entries: ReturnType<typeof parseEnvFile>;
        try {
          entries = parseEnvFile(text, 'app.env');
        } catch (e) {
          if (e instanceof ModuleError) return;
          throw e;
        }
        const lines = text.split(/\r?\n/);
        for (const [k, e] of entries) {
          expect(e.line, `${k} in ${JSON.stringify(text)}`).toBeGreaterThan(0);
          expect(lines[e.line - 1]).toMatch(new RegExp(`^\\s*(export\\s+)?${k}(\\s*=|:\\s)`));
        }
      }),
      RUNS,
    );
  });

  test('values → print → parse gives the values back; parse → print → parse is stable', () => {
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 6 }), (dict) => {
        const values = new Map(Object.entries(dict));
        const text = print(values);
        fc.pre(text !== null);
        expect(tryParse(text!)).toEqual(values);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(envText, (text) => {
        const first = tryParse(text);
        fc.pre(!(first instanceof ModuleError));
        const printed = print(first as Map<string, string>);
        fc.pre(printed !== null);
        const second = tryParse(printed!);
        expect(second).toEqual(first);
        expect(print(second as Map<string, string>)).toBe(printed);
      }),
      RUNS,
    );
  });
});
