// get_url: downloads a URL to a file on the host (with curl on the host, as Ansible downloads
// from the host), checked against a checksum before it replaces the file. An existing file is
// kept unless its checksum differs from the one given, or force asks for a fresh copy (which
// changes nothing when the download is identical). Check mode cannot know the new bytes: it
// predicts a download whenever one would happen.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { ModuleError, type ArgsOf, type Module, type ModuleContext } from '../engine/types.js';
import { applyAttributes, attributeChanges, attributeProperties, resolveAttributes, type FileAttributes } from './support/attributes.js';
import { curlConfig } from './uri.js';

interface Observed {
  dest: string;
  exists: boolean;
  /** The checksum of the existing file, in the algorithm of `checksum`. */
  current?: string;
  /** The expected checksum (looked up when checksum names a checksum file). */
  expected?: { algorithm: string; digest: string };
  attributes: FileAttributes;
  attributeChanges: ReturnType<typeof attributeChanges>;
}

interface GetUrlAction {
  download: boolean;
}

type GetUrlArgs = ArgsOf<typeof schema>;

const ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['url', 'dest'],
  properties: {
    url: { type: 'string', pattern: '^(https?|ftp)://', description: 'what to download (from the host)' },
    dest: { type: 'string', pattern: '^/', description: 'file on the host; an existing directory receives the file under its URL name' },
    checksum: {
      type: 'string',
      pattern: `^(${ALGORITHMS.join('|')}):\\S+$`,
      description: "'sha256:<hex digest>' or 'sha256:<URL of a checksums file>': the download must match; an existing file that matches is not downloaded again",
    },
    force: { type: 'boolean', default: false, description: 'download even when dest exists (the file changes only when the content does)' },
    headers: { type: 'object', additionalProperties: { type: 'string' }, default: {}, description: 'request headers' },
    timeout: { type: 'number', exclusiveMinimum: 0, default: 10, description: 'seconds the download may take' },
    validate_certs: { type: 'boolean', default: true, description: "check the server's TLS certificate" },
    url_username: { type: 'string', description: 'user for HTTP authentication' },
    url_password: { type: 'string', 'x-secret': true, description: 'password for HTTP authentication (never shown)' },
    force_basic_auth: { type: 'boolean', default: false, description: 'send Basic credentials with the first request' },
    ...attributeProperties,
  },
} as const;

export const get_url: Module<typeof schema, Observed, GetUrlAction> = {
  name: 'get_url',
  description: 'Download a file from a URL to the host, checked against a checksum',
  schema,

  async observe(ctx, args) {
    let dest = args.dest;
    const st = await ctx.host.stat(dest, { ...ctx.become, follow: true });
    if (st?.type === 'directory') dest = path.posix.join(dest, urlFileName(args.url));
    const file = dest === args.dest ? st : await ctx.host.stat(dest, { ...ctx.become, follow: true });
    const attributes = await resolveAttributes(ctx, { mode: args.mode, owner: args.owner, group: args.group });
    const expected = args.checksum ? await expectedChecksum(ctx, args) : undefined;
    const current = file && expected ? await digestOnHost(ctx, dest, expected.algorithm) : undefined;
    return { dest, exists: !!file, current, expected, attributes, attributeChanges: file ? attributeChanges(file, attributes) : [] };
  },

  plan(o, args) {
    const matches = o.expected ? o.current === o.expected.digest : undefined;
    const download = !o.exists || matches === false || (args.force && matches !== true);
    const result = { dest: o.dest, url: args.url, ...(o.expected ? { checksum_src: o.expected.digest } : {}) };
    if (!download && !o.attributeChanges.length) return { changed: false, summary: `${o.dest} present${matches ? ' (checksum matches)' : ''}`, result: { ...result, msg: 'file already exists' } };
    const why = !o.exists ? '' : matches === false ? ' (checksum differs)' : download ? ' (force)' : '';
    return {
      changed: true,
      summary: download ? `download ${args.url} to ${o.dest}${why}` : `attributes of ${o.dest}`,
      diffs: [{ target: o.dest, before: o.exists ? `${o.current ?? 'present'}\n` : '', after: download ? `downloaded from ${args.url}${o.expected ? `\n${o.expected.algorithm}:${o.expected.digest}` : ''}\n` : `${o.current ?? 'present'}\n` }],
      action: { download },
      result,
    };
  },

  async apply(ctx, action, args) {
    const observed = await get_url.observe(ctx, args);
    if (!action.download) {
      await applyAttributes(ctx, observed.dest, observed.attributeChanges);
      return { result: { dest: observed.dest } };
    }
    const temp = path.posix.join(path.posix.dirname(observed.dest), `.${path.posix.basename(observed.dest)}.plinth-download-${randomBytes(6).toString('hex')}`);
    try {
      const r = await ctx.host.exec(
        ['curl', '--config', '-', '--silent', '--show-error', '--fail', '--location', '--output', temp, '--write-out', '%{http_code}'],
        { ...ctx.become, stdin: curlConfig({ ...args, method: 'GET', body_format: 'raw', status_code: 200, return_content: false, follow_redirects: 'all' }), timeout: (args.timeout + 60) * 1000 },
      );
      if (r.exitCode === 127) throw new ModuleError(`get_url: curl is not installed on ${ctx.host.name} (install it with apt: name=curl)`);
      if (r.exitCode !== 0) throw new ModuleError(`Request failed: ${r.stderr.trim() || `curl exit code ${r.exitCode}`} (${args.url})`, { status_code: Number(r.stdout) || -1 });
      const algorithm = observed.expected?.algorithm ?? 'sha1';
      const got = await digestOnHost(ctx, temp, algorithm);
      if (observed.expected && got !== observed.expected.digest) {
        throw new ModuleError(`The checksum for ${observed.dest} did not match ${observed.expected.digest}; it was ${got}.`);
      }
      const same = observed.exists && (observed.current ?? (await digestOnHost(ctx, observed.dest, algorithm))) === got;
      if (same) {
        await applyAttributes(ctx, observed.dest, observed.attributeChanges);
        return { changed: observed.attributeChanges.length > 0, result: { dest: observed.dest, status_code: Number(r.stdout), msg: 'OK (unchanged)' } };
      }
      const changes = attributeChanges(null, observed.attributes);
      await applyAttributes(ctx, temp, changes);
      const mv = await ctx.host.exec(['mv', '-f', '--', temp, observed.dest], { ...ctx.become });
      if (mv.exitCode !== 0) throw new ModuleError(`cannot move the download to ${observed.dest}: ${mv.stderr.trim()}`);
      return { result: { dest: observed.dest, status_code: Number(r.stdout), checksum_dest: got, msg: `OK` } };
    } finally {
      await ctx.host.exec(['rm', '-f', '--', temp], { ...ctx.become });
    }
  },
};

function urlFileName(url: string): string {
  const name = path.posix.basename(new URL(url).pathname);
  if (!name) throw new ModuleError(`get_url: dest is a directory and ${url} names no file`);
  return name;
}

async function expectedChecksum(ctx: ModuleContext, args: GetUrlArgs): Promise<{ algorithm: string; digest: string }> {
  const at = args.checksum!.indexOf(':');
  const algorithm = args.checksum!.slice(0, at);
  const value = args.checksum!.slice(at + 1);
  if (!/^(https?|ftp):\/\//.test(value)) return { algorithm, digest: value.toLowerCase() };
  // A checksums file (SHA256SUMS): the line for the downloaded file's name, or its only line.
  const r = await ctx.host.exec(['curl', '--silent', '--show-error', '--fail', '--location', '--max-time', String(args.timeout), value]);
  if (r.exitCode !== 0) throw new ModuleError(`get_url: cannot read the checksum file ${value}: ${r.stderr.trim()}`);
  const name = urlFileName(args.url);
  const digest = checksumFromList(r.stdout, name);
  if (!digest) throw new ModuleError(`get_url: no checksum for ${name} in ${value}`);
  return { algorithm, digest };
}

/** The digest for a file name in a checksums file (SHA256SUMS, `sha256sum` output), or its only line's. */
export function checksumFromList(text: string, name: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f[0]);
  const line = lines.find((f) => f[1]?.replace(/^[*.]\//, '').replace(/^\*/, '') === name) ?? (lines.length === 1 ? lines[0] : undefined);
  return line?.[0].toLowerCase();
}

async function digestOnHost(ctx: ModuleContext, file: string, algorithm: string): Promise<string> {
  const r = await ctx.host.exec([`${algorithm}sum`, '--', file], { ...ctx.become });
  if (r.exitCode !== 0) throw new ModuleError(`${algorithm}sum ${file} failed: ${r.stderr.trim()}`);
  return r.stdout.split(/\s+/)[0];
}
