import { describe, expect, test } from 'vitest';
import { checkPostgresUrl, parseEnvFile } from '../../../modules/k8s/dotenv.js';

const values = (text: string) => Object.fromEntries([...parseEnvFile(text, '.env')].map(([k, e]) => [k, e.value]));

describe('.env parsing', () => {
  test("the blog's failure: quoted URLs give clean values, without the quotes", () => {
    const env = values('READ_DATABASE_URL="postgres://app:pw@192.168.1.31:5432/app"\nWRITE_DATABASE_URL=\'postgres://app:pw@192.168.1.37:5432/app\'\n');
    expect(env).toEqual({ READ_DATABASE_URL: 'postgres://app:pw@192.168.1.31:5432/app', WRITE_DATABASE_URL: 'postgres://app:pw@192.168.1.37:5432/app' });
  });

  test('comments, export, spaces, escapes in double quotes, multi-line values, line numbers', () => {
    const text = '# header\n\nexport A=plain\nB = spaced value   # comment\nC="line1\\nline2"\nD=\'no $expansion \\n\'\nE="multi\nline"\nF=after\n';
    const parsed = parseEnvFile(text, '.env');
    expect(Object.fromEntries([...parsed].map(([k, e]) => [k, e.value]))).toEqual({
      A: 'plain',
      B: 'spaced value',
      C: 'line1\nline2',
      D: 'no $expansion \\n',
      E: 'multi\nline',
      F: 'after',
    });
    expect(parsed.get('A')?.line).toBe(3);
    expect(parsed.get('E')?.line).toBe(7);
    expect(parsed.get('F')?.line).toBe(9);
  });

  test('a line dotenv would silently ignore is an error with its line', () => {
    expect(() => parseEnvFile('A=1\nthis is not an assignment\n', 'app.env')).toThrow(/^app\.env:2: not a KEY=value line$/);
  });

  test("an unquoted '#' inside a value is an error (dotenv cuts the value there)", () => {
    expect(() => parseEnvFile('A=1\nURL=postgres://u:pa#ss@h/db\n', 'app.env')).toThrow(/app\.env:2: URL: an unquoted '#'/);
    expect(values('URL="postgres://u:pa#ss@h/db"\n').URL).toBe('postgres://u:pa#ss@h/db');
  });

  test('an unclosed quote names its line', () => {
    expect(() => parseEnvFile('A=1\nB="open\nC=2\n', 'x.env')).toThrow(/x\.env:2: B: the " quote is never closed/);
  });

  test('an unclosed quote is not closed by a later line that merely holds that quote (dotenv needs the quote to end the value)', () => {
    const text = 'A="open\nURL=postgres://u:pa#ss@h/db\nB="x" y\n';
    expect(() => parseEnvFile(text, 'app.env')).toThrow(/^app\.env:1: A: the " quote is never closed/);
    try {
      parseEnvFile(text, 'app.env');
    } catch (e) {
      for (const v of ['open', 'pa#ss', 'postgres:']) expect((e as Error).message).not.toContain(v);
    }
    expect(() => parseEnvFile("K=1\nA='x\ny'z\nw'\n", 'app.env')).toThrow(/^app\.env:2: A: the ' quote is never closed/);
    expect(() => parseEnvFile('A=`x` y\n', 'app.env')).toThrow(/^app\.env:1: A: the ` quote is never closed/);
  });

  test('a multi-line value closes where dotenv closes it; the lines after it are checked again', () => {
    const parsed = parseEnvFile('A="first\n# kept\nsay \\"hi\\" # not the end\nlast" # note\nB=2\nC=\'it\'s\'\n', 'app.env');
    expect(Object.fromEntries([...parsed].map(([k, e]) => [k, [e.value, e.line]]))).toEqual({
      A: ['first\n# kept\nsay \\"hi\\" # not the end\nlast', 1],
      B: ['2', 5],
      C: ["it's", 6],
    });
    expect(() => parseEnvFile('A="x\ny"\nURL=postgres://u:pa#ss@h/db\n', 'app.env')).toThrow(/^app\.env:3: URL: an unquoted '#'/);
  });
});

describe('PostgreSQL URL checks', () => {
  const check = (value: string) => () => checkPostgresUrl('WRITE_DATABASE_URL', { value, line: 4 }, 'app.env');
  test.each([
    ['a keyword/value DSN', 'host=db user=app', /not a PostgreSQL URL/],
    ['quotes that reached the value', '"postgres://app:secretpw@db/app"', /quote characters/],
    ['no host', 'postgres://app:secretpw@/app', /not a valid PostgreSQL URL|no host/],
    ['a bad port', 'postgres://app:secretpw@db:54x2/app', /not a valid PostgreSQL URL|invalid port/],
    ['trailing space', 'postgres://app:secretpw@db/app ', /spaces/],
  ])('%s is refused with file:line and without the value', (_name, value, message) => {
    expect(check(value)).toThrow(message);
    try {
      check(value)();
    } catch (e) {
      expect((e as Error).message.startsWith('app.env:4: WRITE_DATABASE_URL')).toBe(true);
      expect((e as Error).message).not.toContain('secretpw');
      expect((e as Error).message).not.toContain('host=db');
    }
  });

  test('good URLs pass', () => {
    expect(check('postgres://app:pw@192.168.1.37:5432/app')).not.toThrow();
    expect(check('postgresql://app:p%40ss@pgpool.write.db.internal/app?sslmode=disable')).not.toThrow();
  });
});
