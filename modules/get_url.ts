// get_url: downloads a URL to a file on the host (from the host, as Ansible downloads), checked
// against a checksum before it replaces the file. With curl on the host, curl downloads beside
// dest; a host without curl gets the download through the connection (the host opens the TCP
// connection, see support/http-through-host.ts) and plinth writes it atomically. An existing
// file is kept unless its checksum differs from the one given, or force asks for a fresh copy
// (which changes nothing when the download is identical). Check mode cannot know the new bytes:
// it predicts a download whenever one would happen.
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { ModuleError, type ArgsOf, type Module, type ModuleContext } from '../engine/types.js';
import { applyAttributes, attributeChanges, attributeProperties, attributesDiff, describeChanges, resolveAttributes, type FileAttributes } from './support/attributes.js';
import { forwardingHint, requestFromHost } from './support/http-through-host.js';
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
    const contentDiff = {
      target: o.dest,
      before: o.exists ? `${o.current ?? 'present'}\n` : '',
      after: `downloaded from ${args.url}${o.expected ? `\n${o.expected.algorithm}:${o.expected.digest}` : ''}\n`,
    };
    return {
      changed: true,
      summary: download ? `download ${args.url} to ${o.dest}${why}` : `${describeChanges(o.attributeChanges)} on ${o.dest}`,
      diffs: [...(download ? [contentDiff] : []), ...(o.attributeChanges.length ? [attributesDiff(o.dest, o.attributeChanges)] : [])],
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
      const r = await ctx.host.exec(['curl', '--config', '-', '--silent', '--show-error', '--fail', '--location', '--output', temp, '--write-out', '%{http_code}'], {
        ...ctx.become,
        stdin: curlConfig({ ...args, method: 'GET', body_format: 'raw', status_code: 200, return_content: false, follow_redirects: 'all' }),
        timeout: (args.timeout + 60) * 1000,
      });
      if (r.exitCode === 127) return await downloadWithoutCurl(ctx, args, observed);
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
  const text = r.exitCode === 127 ? (await fetchWithoutCurl(ctx, args, value)).toString('utf8') : r.stdout;
  if (r.exitCode !== 0 && r.exitCode !== 127) throw new ModuleError(`get_url: cannot read the checksum file ${value}: ${r.stderr.trim()}`);
  const name = urlFileName(args.url);
  const digest = checksumFromList(text, name);
  if (!digest) throw new ModuleError(`get_url: no checksum for ${name} in ${value}`);
  return { algorithm, digest };
}

/** The digest for a file name in a checksums file (SHA256SUMS, `sha256sum` output), or its only line's. */
export function checksumFromList(text: string, name: string): string | undefined {
  const lines = text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[0]);
  const line = lines.find((f) => f[1]?.replace(/^[*.]\//, '').replace(/^\*/, '') === name) ?? (lines.length === 1 ? lines[0] : undefined);
  return line?.[0].toLowerCase();
}

async function digestOnHost(ctx: ModuleContext, file: string, algorithm: string): Promise<string> {
  const r = await ctx.host.exec([`${algorithm}sum`, '--', file], { ...ctx.become });
  if (r.exitCode !== 0) throw new ModuleError(`${algorithm}sum ${file} failed: ${r.stderr.trim()}`);
  return r.stdout.split(/\s+/)[0];
}

/** The body of a GET sent through the connection (a host without curl); anything but 200 fails. */
async function fetchWithoutCurl(ctx: ModuleContext, args: GetUrlArgs, url: string): Promise<Buffer> {
  const response = await requestFromHost(ctx.host, {
    url,
    method: 'GET',
    headers: { ...args.headers },
    timeout: args.timeout,
    followRedirects: true,
    validateCerts: args.validate_certs,
    ...(args.url_username !== undefined ? { auth: { username: args.url_username, password: args.url_password ?? '', force: args.force_basic_auth } } : {}),
  }).catch((e: Error) => {
    if (e instanceof ModuleError) throw e;
    throw new ModuleError(`Request failed: ${e.message}${forwardingHint(e.message)} (${url}; ${ctx.host.name} has no curl: plinth sent the request through the connection)`, { status_code: -1 });
  });
  if (response.status !== 200) throw new ModuleError(`Request failed: HTTP Error ${response.status} (${url})`, { status_code: response.status });
  return response.body;
}

/** The download checked in memory, then written atomically (host.write) unless dest already holds it. */
async function downloadWithoutCurl(ctx: ModuleContext, args: GetUrlArgs, observed: Observed) {
  const body = await fetchWithoutCurl(ctx, args, args.url);
  const algorithm = observed.expected?.algorithm ?? 'sha1';
  const got = createHash(algorithm).update(body).digest('hex');
  if (observed.expected && got !== observed.expected.digest) {
    throw new ModuleError(`The checksum for ${observed.dest} did not match ${observed.expected.digest}; it was ${got}.`);
  }
  if (observed.exists && (observed.current ?? (await digestOnHost(ctx, observed.dest, algorithm))) === got) {
    await applyAttributes(ctx, observed.dest, observed.attributeChanges);
    return { changed: observed.attributeChanges.length > 0, result: { dest: observed.dest, status_code: 200, msg: 'OK (unchanged)' } };
  }
  await ctx.host.write(observed.dest, body, { ...ctx.become, ...observed.attributes });
  return { result: { dest: observed.dest, status_code: 200, checksum_dest: got, msg: 'OK' } };
}
