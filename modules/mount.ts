// mount (ansible.posix's): a file system in /etc/fstab and, as asked, mounted (mkdir, mount;
// remounted when its fstab entry changes), unmounted, or gone from both. Paths with spaces are
// written to fstab as \040, as mount reads them.
import { ModuleError, type Module, type ArgsOf } from '../engine/types.js';
import { applyManagedFile, observeManagedFile, planManagedFile, type ManagedFile, type ManagedFileAction } from './support/managed-file.js';
import { execOrFail } from './support/host-commands.js';
import { decodeText, readLines } from './support/text.js';

type MountArgs = ArgsOf<typeof schema>;

interface Observed {
  fstab: ManagedFile;
  /** The mount at path now (from /proc/mounts), null when nothing is mounted there. */
  mounted: { src: string; fstype: string; opts: string } | null;
}

type Step = 'mkdir' | 'mount' | 'remount' | 'umount' | 'rmdir';

interface MountAction {
  fstab?: ManagedFileAction;
  steps: Step[];
}

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['path', 'state'],
  anyOf: [{ properties: { state: { enum: ['unmounted', 'absent', 'remounted'] } } }, { required: ['src', 'fstype'] }],
  'x-message': 'src and fstype are required with state mounted and present',
  properties: {
    path: { type: 'string', pattern: '^/', 'x-aliases': ['name'], description: 'the mount point' },
    src: { type: 'string', minLength: 1, description: 'device, UUID=..., LABEL=..., host:/export, or tmpfs (required with mounted and present)' },
    fstype: { type: 'string', pattern: '^\\S+$', description: 'file system type, e.g. ext4, xfs, nfs, tmpfs (required with mounted and present)' },
    opts: { type: 'string', pattern: '^\\S+$', default: 'defaults', description: 'mount options, comma-separated' },
    dump: { type: ['string', 'integer'], default: '0', description: 'fstab dump field' },
    passno: { type: ['string', 'integer'], default: '0', description: 'fstab fsck order' },
    state: {
      enum: ['mounted', 'unmounted', 'present', 'absent', 'remounted'],
      description: 'mounted: in fstab and mounted; present: in fstab only; unmounted: not mounted (fstab kept); absent: neither, mount point removed; remounted: mount -o remount',
    },
    fstab: { type: 'string', pattern: '^/', default: '/etc/fstab', description: 'the fstab file' },
  },
} as const;

const escapeOctal = (s: string) => s.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011');
const unescapeOctal = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

export function fstabLine(args: MountArgs): string {
  return `${escapeOctal(args.src!)} ${escapeOctal(args.path)} ${args.fstype} ${args.opts} ${args.dump} ${args.passno}\n`;
}

/** fstab with the entry for path set (first one replaced, later ones dropped) or removed (line null). */
export function editFstab(lines: string[], mountPoint: string, line: string | null): string[] {
  const out: string[] = [];
  let placed = false;
  for (const l of lines) {
    const fields = l.trim().split(/\s+/);
    if (l.trim().startsWith('#') || fields.length < 2 || unescapeOctal(fields[1]) !== mountPoint) {
      out.push(l);
      continue;
    }
    if (line !== null && !placed) out.push(l.trim().split(/\s+/).join(' ') === line.trim() ? l : line);
    placed = true;
  }
  if (line !== null && !placed) {
    if (out.length && !out[out.length - 1].endsWith('\n')) out[out.length - 1] += '\n';
    out.push(line);
  }
  return out;
}

/** The mount on top at mountPoint in /proc/mounts (the last line for it: mounts stack), or null. */
export function mountAt(procMounts: string, mountPoint: string): Observed['mounted'] {
  let mounted: Observed['mounted'] = null;
  for (const line of procMounts.split('\n')) {
    const [src, target, fstype, opts] = line.split(' ');
    if (target && unescapeOctal(target) === mountPoint) mounted = { src: unescapeOctal(src), fstype, opts };
  }
  return mounted;
}

export const mount: Module<typeof schema, Observed, MountAction> = {
  name: 'mount',
  description: 'Manage a file system in fstab and mount or unmount it',
  schema,

  async observe(ctx, args) {
    const fstab = await observeManagedFile(ctx, args.fstab, {});
    const r = await ctx.host.exec(['cat', '/proc/mounts']);
    if (r.exitCode !== 0) throw new ModuleError(`mount: cannot read /proc/mounts: ${r.stderr.trim()}`);
    return { fstab, mounted: mountAt(r.stdout, args.path) };
  },

  plan(o, args) {
    const lines = o.fstab.content ? readLines(decodeText(o.fstab.content, o.fstab.path)) : [];
    const wantLine = args.state === 'mounted' || args.state === 'present' ? fstabLine(args) : args.state === 'absent' ? null : undefined;
    const edited = wantLine === undefined ? null : Buffer.from(editFstab(lines, args.path, wantLine).join(''));
    const filePlan = edited ? planManagedFile(o.fstab, edited, { makeParents: true }) : null;
    const fstabChange = filePlan && 'action' in filePlan ? filePlan : null;
    const steps: Step[] = [];
    if (args.state === 'mounted') {
      if (!o.mounted) steps.push('mkdir', 'mount');
      else if (fstabChange) steps.push('remount');
    }
    if (args.state === 'remounted') steps.push('remount');
    if ((args.state === 'unmounted' || args.state === 'absent') && o.mounted) steps.push('umount');
    if (args.state === 'absent') steps.push('rmdir');
    const result = { name: args.path, src: args.src, fstype: args.fstype, opts: args.opts, state: args.state };
    const acting = steps.filter((s) => s !== 'mkdir' && s !== 'rmdir');
    if (!fstabChange && !acting.length) return { changed: false, summary: `${args.path} ${o.mounted ? `mounted (${o.mounted.fstype})` : 'not mounted'}`, result };
    const describe = (m: Observed['mounted']) => (m ? `mounted: ${m.src} ${m.fstype} ${m.opts}\n` : 'not mounted\n');
    return {
      changed: true,
      summary: [fstabChange ? `${wantLine === null ? 'remove' : 'set'} ${args.path} in ${o.fstab.path}` : '', ...acting.map((s) => `${s} ${args.path}`)].filter(Boolean).join(', '),
      diffs: [
        ...(fstabChange?.diffs ?? []),
        ...(acting.length
          ? [
              {
                target: `mount ${args.path}`,
                before: describe(o.mounted),
                after: acting.includes('umount') ? 'not mounted\n' : `mounted: ${args.src ?? o.mounted?.src} ${args.fstype ?? o.mounted?.fstype} ${args.opts}\n`,
              },
            ]
          : []),
      ],
      writes: fstabChange?.writes,
      action: { fstab: fstabChange?.action, steps },
      result,
    };
  },

  async apply(ctx, action, args) {
    if (action.fstab) await applyManagedFile(ctx, action.fstab);
    for (const step of action.steps) {
      if (step === 'mkdir') await execOrFail(ctx, ['mkdir', '-p', '--', args.path], `cannot create ${args.path}`);
      if (step === 'mount') await execOrFail(ctx, ['mount', ...(args.fstab && args.fstab !== '/etc/fstab' ? ['-T', args.fstab] : []), args.path], `mount ${args.path} failed`);
      if (step === 'remount') await execOrFail(ctx, ['mount', '-o', `remount,${args.opts}`, args.path], `remount ${args.path} failed`);
      if (step === 'umount') await execOrFail(ctx, ['umount', args.path], `umount ${args.path} failed`);
      if (step === 'rmdir') await ctx.host.exec(['rmdir', '--', args.path], { ...ctx.become });
    }
    return {};
  },
};
