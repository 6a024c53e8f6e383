// fetch: copies a file from the host to the controller (dest/<host>/<src> or, with flat, dest
// itself), written atomically and only when the content differs.
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { ModuleError, type Diff, type Module } from '../engine/types.js';
import { diffText } from './support/text.js';

interface Observed {
  src: string;
  dest: string;
  content: Buffer | null;
  local: Buffer | null;
}

interface FetchAction {
  dest: string;
}

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['src', 'dest'],
  properties: {
    src: { type: 'string', pattern: '^/', description: 'file on the host' },
    dest: { type: 'string', minLength: 1, description: 'directory on the controller (the file lands in dest/<inventory_hostname>/<src>), or with flat the file itself (a trailing / keeps the name)' },
    flat: { type: 'boolean', default: false, description: 'dest is the file (or a directory ending in /), without the host name and src path' },
    fail_on_missing: { type: 'boolean', default: true, description: 'fail when src does not exist on the host' },
  },
} as const;

export const fetch: Module<typeof schema, Observed, FetchAction> = {
  name: 'fetch',
  description: 'Copy a file from the host to the controller',
  schema,

  async observe(ctx, args) {
    const hostName = String(ctx.vars.inventory_hostname ?? ctx.host.name);
    const dest = path.resolve(args.flat ? (args.dest.endsWith('/') ? path.join(args.dest, path.posix.basename(args.src)) : args.dest) : path.join(args.dest, hostName, args.src));
    const st = await ctx.host.stat(args.src, { ...ctx.become, follow: true });
    if (st && st.type !== 'file') throw new ModuleError(`fetch: ${args.src} on the host is not a regular file`);
    const content = st ? await ctx.host.read(args.src, { ...ctx.become }) : null;
    const local = await fs.readFile(dest).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      if (e.code === 'EISDIR') throw new ModuleError(`fetch: dest ${dest} is a directory (end dest with / to keep the file's name)`);
      throw e;
    });
    return { src: args.src, dest, content, local };
  },

  plan(o, args) {
    const result = { src: o.src, dest: o.dest };
    if (!o.content) {
      if (args.fail_on_missing) throw new ModuleError(`fetch: the remote file ${o.src} does not exist`);
      return { changed: false, summary: `${o.src} missing on the host`, result: { ...result, msg: 'the remote file does not exist, not transferring, ignored' } };
    }
    if (o.local?.equals(o.content)) return { changed: false, summary: `${o.dest} up to date`, result };
    const diff: Diff = { target: `${o.dest} (controller)`, before: diffText(o.local), after: diffText(o.content) };
    return { changed: true, summary: `fetch ${o.src} to ${o.dest}`, diffs: [diff], action: { dest: o.dest }, result };
  },

  async apply(ctx, action, args) {
    // The bytes are read again: the plan holds only where they go.
    const content = await ctx.host.read(args.src, { ...ctx.become });
    if (!content) throw new ModuleError(`fetch: the remote file ${args.src} went away`);
    await fs.mkdir(path.dirname(action.dest), { recursive: true });
    const temp = `${action.dest}.plinth-${randomBytes(6).toString('hex')}`;
    await fs.writeFile(temp, content, { mode: 0o644 });
    await fs.rename(temp, action.dest);
    return {};
  },
};
