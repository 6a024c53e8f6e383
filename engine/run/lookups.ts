// Ansible's `lookup('env', 'HOME')` and `query('fileglob', '*.conf')` in expressions. Lookups run
// on the controller, as in Ansible, with relative files searched in the role, then the playbook.
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { sources } from '../load/sources.js';
import { redactor } from '../secrets/redact.js';
import { fileglob, firstFound, firstFoundCandidates } from './loops.js';

type Options = Record<string, unknown>;
/** Where relative names are searched (role, then playbook), and the playbook's folder commands run in. */
interface Where {
  baseDirs: string[];
  playbookDir: string;
}

type Plugin = (terms: string[], options: Options, where: Where) => unknown[];

const CHARSETS: Record<string, string> = {
  ascii_letters: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
  ascii_lowercase: 'abcdefghijklmnopqrstuvwxyz',
  ascii_uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  hexdigits: '0123456789abcdefABCDEF',
  punctuation: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
};

const PLUGINS: Record<string, Plugin> = {
  env: (terms, o) => terms.map((name) => process.env[name] ?? (o.default === undefined ? '' : String(o.default))),
  file: (terms, o, { baseDirs }) =>
    terms.map((name) => {
      const found = searched(name, baseDirs).find((candidate) => statSync(candidate, { throwIfNoEntry: false })?.isFile());
      if (!found) throw new Error(`lookup('file'): could not find '${name}' (looked in: ${searched(name, baseDirs).join(', ')})`);
      const content = readFileSync(found);
      sources.record(found, content);
      const text = content.toString('utf8');
      return o.rstrip === false ? text : text.trimEnd();
    }),
  pipe: (terms, _o, { playbookDir }) => terms.map((command) => shell(command, playbookDir).trimEnd()),
  lines: (terms, _o, { playbookDir }) =>
    terms.flatMap((command) =>
      shell(command, playbookDir)
        .split('\n')
        .filter((l, i, all) => l !== '' || i < all.length - 1),
    ),
  fileglob: (terms, _o, { baseDirs }) => fileglob(terms, baseDirs),
  first_found: (terms, o, { baseDirs }) => {
    const spec = o.files !== undefined ? o : terms;
    const found = firstFound(spec, baseDirs);
    if (found === undefined && o.skip !== true) throw new Error(`lookup('first_found'): none of the files exist: ${firstFoundCandidates(spec, baseDirs).join(', ')}`);
    return found === undefined ? [] : [found];
  },
  password: (terms, o, { playbookDir }) => terms.map((term) => password(term, o, playbookDir)),
};

/** `lookup` and `query` as expression functions. */
export function lookupFunctions(where: Where): { lookup: (...args: unknown[]) => unknown; query: (...args: unknown[]) => unknown[] } {
  const query = (...args: unknown[]): unknown[] => {
    const [name, ...rest] = args;
    const plugin = PLUGINS[String(name)];
    if (!plugin) throw new Error(`lookup plugin '${String(name)}' is not supported (plinth has: ${Object.keys(PLUGINS).join(', ')})`);
    const last = rest[rest.length - 1];
    const options = last && typeof last === 'object' && !Array.isArray(last) ? (rest.pop() as Options) : {};
    const terms = rest.flat().map(String);
    return plugin(terms, options, where);
  };
  const lookup = (...args: unknown[]): unknown => {
    const options = args[args.length - 1] as Options | undefined;
    const values = query(...args);
    if (options && typeof options === 'object' && options.wantlist === true) return values;
    return values.length === 1 ? values[0] : values.map(String).join(',');
  };
  return { lookup, query };
}

function searched(name: string, dirs: string[]): string[] {
  return path.isAbsolute(name) ? [name] : dirs.flatMap((d) => [path.join(d, 'files', name), path.join(d, name)]);
}

function shell(command: string, cwd: string): string {
  return execFileSync('/bin/sh', ['-c', command], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * `lookup('password', 'credentials/replicator length=24 chars=ascii_letters,digits')`: the first line
 * of the file, made (mode 0600) with a random password when it does not exist yet. Always a secret.
 */
function password(term: string, o: Options, playbookDir: string): string {
  const [file, ...params] = term.trim().split(/\s+/);
  const opts: Options = { ...o };
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq > 0) opts[p.slice(0, eq)] = p.slice(eq + 1);
  }
  const length = Number(opts.length ?? 20);
  if (!Number.isInteger(length) || length < 1) throw new Error(`lookup('password'): length must be a positive whole number, got '${String(opts.length)}'`);
  const target = file === '/dev/null' || path.isAbsolute(file) ? file : path.resolve(playbookDir, file);
  if (target !== '/dev/null' && existsSync(target)) {
    const value = readFileSync(target, 'utf8').split('\n')[0].split(' salt=')[0];
    redactor.add(value);
    return value;
  }
  const names = String(opts.chars ?? 'ascii_letters,digits,.,:-_').split(/,(?!,)/);
  const alphabet = [...new Set(names.map((n) => CHARSETS[n] ?? n).join(''))].join('');
  const value = Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
  redactor.add(value);
  if (target !== '/dev/null') {
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, `${value}\n`, { mode: 0o600, flag: 'wx' });
  }
  return value;
}
