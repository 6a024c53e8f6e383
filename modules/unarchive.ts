// unarchive: a tar archive (plain, gz, bz2, xz, zst) unpacked into a directory on the host. An
// archive from the controller is streamed to tar's standard input (no copy left on the host);
// remote_src reads one already on the host. `tar --compare` decides whether anything differs,
// so a second run changes nothing. Zip archives are not supported yet.
import { ModuleError, type Module, type ModuleContext } from '../engine/types.js';
import { findControllerFile } from './support/controller-files.js';
import { execOrFail } from './support/host-commands.js';
import { observeCommand, type CommandObserved } from './support/command-and-shell.js';

interface UnarchiveArgs {
  src: string;
  dest: string;
  remote_src: boolean;
  creates?: string;
  owner?: string;
  group?: string;
  extra_opts: string[];
  list_files: boolean;
}

interface Observed extends CommandObserved {
  /** What `tar --compare` found different (empty: the directory holds the archive as it is). */
  differences: string[];
  files?: string[];
}

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['src', 'dest'],
  properties: {
    src: { type: 'string', pattern: '\\.(tar|tgz|tar\\.gz|tbz2|tar\\.bz2|txz|tar\\.xz|tar\\.zst|tzst)$', description: 'the archive: on the controller (files/<src>, then <src>), or on the host with remote_src' },
    dest: { type: 'string', pattern: '^/', description: 'existing directory on the host to unpack into' },
    remote_src: { type: 'boolean', default: false, description: 'src is a file on the host' },
    creates: { type: 'string', minLength: 1, description: 'when this path exists, nothing is unpacked' },
    owner: { type: 'string', minLength: 1, description: 'owner of the unpacked files' },
    group: { type: 'string', minLength: 1, description: 'group of the unpacked files' },
    extra_opts: { type: 'array', items: { type: 'string' }, default: [], description: "more tar options, e.g. ['--strip-components=1']" },
    list_files: { type: 'boolean', default: false, description: 'return the archive’s file names as `files`' },
  },
} as const;

function compression(src: string): string[] {
  if (/\.(tgz|gz)$/.test(src)) return ['-z'];
  if (/\.(tbz2|bz2)$/.test(src)) return ['-j'];
  if (/\.(txz|xz)$/.test(src)) return ['-J'];
  if (/\.(tzst|zst)$/.test(src)) return ['--zstd'];
  return [];
}

/** tar with the archive: a host path (remote_src) or the controller's bytes on stdin. */
async function tar(ctx: ModuleContext, args: UnarchiveArgs, archive: Buffer | null, op: string[]) {
  const file = archive ? '-' : args.src;
  const owner = args.owner || args.group ? ['--no-same-owner'] : [];
  const names = op[0] === '--list' ? ['--show-transformed-names'] : [];
  return ctx.host.exec(['tar', ...op, ...names, ...compression(args.src), ...owner, ...(args.extra_opts ?? []), '-f', file, '-C', args.dest], { ...ctx.become, ...(archive ? { stdin: archive } : {}), timeout: 3600_000 });
}

async function archiveBytes(ctx: ModuleContext, args: UnarchiveArgs): Promise<Buffer | null> {
  if (args.remote_src) {
    if (!(await ctx.host.stat(args.src, { ...ctx.become, follow: true }))) throw new ModuleError(`unarchive: src ${args.src} does not exist on ${ctx.host.name}`);
    return null;
  }
  return (await findControllerFile(ctx.baseDirs, 'files', args.src)).content;
}

export const unarchive: Module<UnarchiveArgs, Observed, { extract: true }> = {
  name: 'unarchive',
  description: 'Unpack a tar archive from the controller or the host into a directory',
  schema,

  async observe(ctx, args) {
    const skip = await observeCommand(ctx, args);
    if (skip.skipReason) return { ...skip, differences: [] };
    const dest = await ctx.host.stat(args.dest, { ...ctx.become, follow: true });
    if (dest?.type !== 'directory') throw new ModuleError(`unarchive: dest ${args.dest} must be an existing directory`);
    const archive = await archiveBytes(ctx, args);
    const compare = await tar(ctx, args, archive, ['--compare']);
    if (compare.exitCode > 1) {
      const tool = /(xz|zstd|bzip2|gzip): Cannot exec/.exec(compare.stderr)?.[1];
      const hint = tool ? ` (install ${tool === 'xz' ? 'xz-utils' : tool} on the host)` : '';
      throw new ModuleError(`unarchive: tar cannot read ${args.src}${hint}: ${compare.stderr.trim().split('\n')[0]}`);
    }
    // With owner/group the files are given away after unpacking: their uid/gid differ by design.
    // A member whose name --strip-components emptied (": Cannot stat") is not unpacked at all.
    const ignored = args.owner || args.group ? /: (Uid|Gid) differs$/ : /^$/;
    const differences = `${compare.stdout}\n${compare.stderr}`.split('\n').map((l) => l.replace(/^tar: /, '').trim()).filter((l) => l && !ignored.test(l) && !l.startsWith(': '));
    const files = args.list_files ? (await tar(ctx, args, archive, ['--list'])).stdout.split('\n').filter(Boolean) : undefined;
    return { differences, files };
  },

  plan(o, args) {
    const result = { dest: args.dest, src: args.src, ...(o.files ? { files: o.files } : {}) };
    if (o.skipReason) return { changed: false, summary: o.skipReason.msg, result };
    if (!o.differences.length) return { changed: false, summary: `${args.dest} holds ${args.src}`, result };
    const shown = o.differences.slice(0, 20);
    return {
      changed: true,
      summary: `unpack ${args.src} into ${args.dest} (${o.differences.length} difference${o.differences.length === 1 ? '' : 's'})`,
      diffs: [{ target: args.dest, before: shown.join('\n') + (o.differences.length > 20 ? '\n…' : '') + '\n', after: `unpacked from ${args.src}\n` }],
      action: { extract: true },
      result,
    };
  },

  async apply(ctx, _action, args) {
    const r = await tar(ctx, args, await archiveBytes(ctx, args), ['--extract']);
    if (r.exitCode !== 0) throw new ModuleError(`unarchive: tar failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
    if (args.owner || args.group) {
      const list = (await tar(ctx, args, await archiveBytes(ctx, args), ['--list'])).stdout.split('\n').filter(Boolean);
      const spec = `${args.owner ?? ''}${args.group ? `:${args.group}` : ''}`;
      for (let i = 0; i < list.length; i += 200) {
        await execOrFail(ctx, ['chown', '-h', spec, '--', ...list.slice(i, i + 200).map((f) => `${args.dest}/${f}`)], `cannot give the unpacked files to ${spec}`);
      }
    }
    return {};
  },
};
