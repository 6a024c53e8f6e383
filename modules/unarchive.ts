// unarchive: a tar archive (plain, gz, bz2, xz, zst) or a zip archive unpacked into a directory
// on the host; the format comes from the name, else from the archive's first bytes. A tar archive
// from the controller is streamed to tar's standard input (no copy left on the host); remote_src
// reads one already on the host; `tar --compare` decides whether anything differs. A zip archive
// is read on the controller (from the host with remote_src) and its members compared by checksum
// and written one by one as a tree (support/file-tree.ts): the host needs no unzip.
import { ModuleError, type Module, type ModuleContext, type ArgsOf } from '../engine/types.js';
import { findControllerFile } from './support/controller-files.js';
import { applyTree, observeTree, planTree, type TreeAction, type TreeObserved } from './support/file-tree.js';
import { isZip, readZip } from './support/zip-archive.js';
import { execOrFail } from './support/host-commands.js';
import { observeCommand, type CommandObserved } from './support/command-and-shell.js';

type UnarchiveArgs = ArgsOf<typeof schema>;

interface Observed extends CommandObserved {
  /** What `tar --compare` found different (empty: the directory holds the archive as it is). */
  differences: string[];
  files?: string[];
  /** tar's decompression option ([] for a plain tar). */
  tarFlags?: string[];
  /** A zip archive: its members as a tree, and what dest holds of it. */
  zip?: TreeObserved;
}

type UnarchiveAction = { extract: true; tarFlags: string[] } | TreeAction;

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['src', 'dest'],
  properties: {
    src: {
      type: 'string',
      minLength: 1,
      description: 'the archive (.tar, .tar.gz/.tgz, .tar.bz2, .tar.xz, .tar.zst, .zip, or any name: the content tells): on the controller (files/<src>, then <src>), or on the host with remote_src',
    },
    dest: { type: 'string', pattern: '^/', description: 'existing directory on the host to unpack into' },
    remote_src: { type: 'boolean', default: false, description: 'src is a file on the host' },
    creates: { type: 'string', minLength: 1, description: 'when this path exists, nothing is unpacked' },
    owner: { type: 'string', minLength: 1, description: 'owner of the unpacked files' },
    group: { type: 'string', minLength: 1, description: 'group of the unpacked files' },
    extra_opts: { type: 'array', items: { type: 'string' }, default: [], description: "more tar options, e.g. ['--strip-components=1'] (none for zip archives)" },
    list_files: { type: 'boolean', default: false, description: 'return the archive’s file names as `files`' },
  },
} as const;

/** tar's option for the compression the name says; 'zip'; undefined when the name tells nothing. */
function formatByName(src: string): string[] | 'zip' | undefined {
  if (/\.zip$/i.test(src)) return 'zip';
  if (/\.(tgz|gz)$/.test(src)) return ['-z'];
  if (/\.(tbz2|bz2)$/.test(src)) return ['-j'];
  if (/\.(txz|xz)$/.test(src)) return ['-J'];
  if (/\.(tzst|zst)$/.test(src)) return ['--zstd'];
  if (/\.tar$/.test(src)) return [];
  return undefined;
}

/** The same from the archive's first 262 bytes (magic numbers; a plain tar says "ustar" at 257). */
function formatByContent(head: Buffer): string[] | 'zip' | undefined {
  if (isZip(head)) return 'zip';
  if (head[0] === 0x1f && head[1] === 0x8b) return ['-z'];
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return ['-j'];
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return ['-J'];
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return ['--zstd'];
  if (head.subarray(257, 262).toString('latin1') === 'ustar') return [];
  return undefined;
}

/** The first bytes of the archive: the controller's copy, or read with od on the host. */
async function archiveHead(ctx: ModuleContext, args: UnarchiveArgs, archive: Buffer | null): Promise<Buffer> {
  if (archive) return archive.subarray(0, 262);
  const r = await ctx.host.exec(['od', '-An', '-v', '-tx1', '-N', '262', '--', args.src], { ...ctx.become });
  if (r.exitCode !== 0) throw new ModuleError(`unarchive: cannot read ${args.src} on ${ctx.host.name}: ${r.stderr.trim()}`);
  return Buffer.from(r.stdout.replace(/\s+/g, ''), 'hex');
}

/** tar with the archive: a host path (remote_src) or the controller's bytes on stdin. */
async function tar(ctx: ModuleContext, args: UnarchiveArgs, archive: Buffer | null, flags: string[], op: string[]) {
  const file = archive ? '-' : args.src;
  const owner = args.owner || args.group ? ['--no-same-owner'] : [];
  const names = op[0] === '--list' ? ['--show-transformed-names'] : [];
  return ctx.host.exec(['tar', ...op, ...names, ...flags, ...owner, ...args.extra_opts, '-f', file, '-C', args.dest], { ...ctx.become, ...(archive ? { stdin: archive } : {}), timeout: 3600_000 });
}

async function archiveBytes(ctx: ModuleContext, args: UnarchiveArgs): Promise<Buffer | null> {
  if (args.remote_src) {
    if (!(await ctx.host.stat(args.src, { ...ctx.become, follow: true }))) throw new ModuleError(`unarchive: src ${args.src} does not exist on ${ctx.host.name}`);
    return null;
  }
  return (await findControllerFile(ctx, 'files', args.src)).content;
}

/**
 * What `tar --compare` reports, one line per difference ("README: Size differs", "bin: Warning:
 * Cannot stat: No such file or directory"). With owner/group the files are given away after
 * unpacking: their uid/gid differ by design. A member whose name --strip-components emptied
 * (": Cannot stat") is not unpacked at all.
 */
export function tarDifferences(stdout: string, stderr: string, givenAway: boolean): string[] {
  const ignored = givenAway ? /: (Uid|Gid) differs$/ : /^$/;
  return `${stdout}\n${stderr}`
    .split('\n')
    .map((l) => l.replace(/^tar: /, '').trim())
    .filter((l) => l && !ignored.test(l) && !l.startsWith(': '));
}

export const unarchive: Module<typeof schema, Observed, UnarchiveAction> = {
  name: 'unarchive',
  description: 'Unpack a tar or zip archive from the controller or the host into a directory',
  schema,

  async observe(ctx, args) {
    const skip = await observeCommand(ctx, args);
    if (skip.skipReason) return { ...skip, differences: [] };
    const dest = await ctx.host.stat(args.dest, { ...ctx.become, follow: true });
    if (dest?.type !== 'directory') throw new ModuleError(`unarchive: dest ${args.dest} must be an existing directory`);
    const archive = await archiveBytes(ctx, args);
    const format = formatByName(args.src) ?? formatByContent(await archiveHead(ctx, args, archive));
    if (format === undefined) throw new ModuleError(`unarchive: ${args.src} is neither a tar nor a zip archive (by its name or its first bytes)`);
    if (format === 'zip') return { differences: [], ...(await observeZip(ctx, args, archive)) };
    const compare = await tar(ctx, args, archive, format, ['--compare']);
    if (compare.exitCode > 1) {
      const tool = /(xz|zstd|bzip2|gzip): Cannot exec/.exec(compare.stderr)?.[1];
      const hint = tool ? ` (install ${tool === 'xz' ? 'xz-utils' : tool} on the host)` : '';
      throw new ModuleError(`unarchive: tar cannot read ${args.src}${hint}: ${compare.stderr.trim().split('\n')[0]}`);
    }
    const differences = tarDifferences(compare.stdout, compare.stderr, !!(args.owner || args.group));
    const files = args.list_files ? (await tar(ctx, args, archive, format, ['--list'])).stdout.split('\n').filter(Boolean) : undefined;
    return { differences, files, tarFlags: format };
  },

  plan(o, args) {
    const result = { dest: args.dest, src: args.src, ...(o.files ? { files: o.files } : {}) };
    if (o.skipReason) return { changed: false, summary: o.skipReason.msg, result };
    if (o.zip) return planTree(o.zip, { delete: false, replace: true }, { src: args.src, ...(o.files ? { files: o.files } : {}) });
    if (!o.differences.length) return { changed: false, summary: `${args.dest} holds ${args.src}`, result };
    const shown = o.differences.slice(0, 20);
    return {
      changed: true,
      summary: `unpack ${args.src} into ${args.dest} (${o.differences.length} difference${o.differences.length === 1 ? '' : 's'})`,
      diffs: [{ target: args.dest, before: shown.join('\n') + (o.differences.length > 20 ? '\n…' : '') + '\n', after: `unpacked from ${args.src}\n` }],
      action: { extract: true, tarFlags: o.tarFlags ?? [] },
      result,
    };
  },

  async apply(ctx, action, args) {
    if ('mkdir' in action) return applyTree(ctx, action);
    const r = await tar(ctx, args, await archiveBytes(ctx, args), action.tarFlags, ['--extract']);
    if (r.exitCode !== 0) throw new ModuleError(`unarchive: tar failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
    if (args.owner || args.group) {
      const list = (await tar(ctx, args, await archiveBytes(ctx, args), action.tarFlags, ['--list'])).stdout.split('\n').filter(Boolean);
      const spec = `${args.owner ?? ''}${args.group ? `:${args.group}` : ''}`;
      for (let i = 0; i < list.length; i += 200) {
        await execOrFail(ctx, ['chown', '-h', spec, '--', ...list.slice(i, i + 200).map((f) => `${args.dest}/${f}`)], `cannot give the unpacked files to ${spec}`);
      }
    }
    return {};
  },
};

/** The zip's members as the wanted tree under dest; a zip from the host is read over the connection. */
async function observeZip(ctx: ModuleContext, args: UnarchiveArgs, archive: Buffer | null): Promise<Pick<Observed, 'zip' | 'files'>> {
  if (args.extra_opts.length) throw new ModuleError(`unarchive: extra_opts are tar options; ${args.src} is a zip archive`);
  const bytes = archive ?? (await ctx.host.read(args.src, { ...ctx.become }));
  if (!bytes) throw new ModuleError(`unarchive: src ${args.src} does not exist on ${ctx.host.name}`);
  const { members, names } = await readZip(bytes, args.src);
  const wanted = members.map(({ name: _name, ...entry }) => entry);
  const zip = await observeTree(ctx, { dest: args.dest, source: args.src, wanted, delete: false, owner: args.owner, group: args.group });
  return { zip, ...(args.list_files ? { files: names } : {}) };
}
