// File attributes (mode, owner, group) shared by file, copy, template, lineinfile and
// blockinfile: their schema, how they compare with a stat, and how they are applied.
import type { ArgsOf, Diff, FileStat, ModuleContext } from '../../engine/types.js';
import { execOrFail } from './host-commands.js';

/** mode, owner and group as a module's arguments give them (attributeProperties). */
export type FileAttributes = ArgsOf<{ type: 'object'; properties: typeof attributeProperties }>;

export const modeSchema = {
  type: 'string',
  pattern: '^0?[0-7]{3,4}$',
  description: "file mode as a quoted octal string, e.g. '0644' (an unquoted 0644 is read as a number and rejected)",
} as const;

/** Schema properties for the attributes; spread them into a module's `properties`. */
export const attributeProperties = {
  mode: modeSchema,
  owner: { type: 'string', minLength: 1, description: 'user (name or numeric uid) that should own the file' },
  group: { type: 'string', minLength: 1, description: 'group (name or numeric gid) that should own the file' },
} as const;

type AttributeField = keyof FileAttributes;

export interface AttributeChange {
  field: AttributeField;
  /** '' when the path does not exist yet. */
  before: string;
  after: string;
}

export function normalizeMode(mode: string): string {
  return parseInt(mode, 8).toString(8).padStart(4, '0');
}

/**
 * The wanted attributes in the form a stat reports them: modes as 4 digits, and numeric
 * ids as names when the host knows them, so that `owner: '0'` matches a file owned by root.
 */
export async function resolveAttributes(ctx: ModuleContext, wanted: FileAttributes): Promise<FileAttributes> {
  const resolved: FileAttributes = {};
  if (wanted.mode !== undefined) resolved.mode = normalizeMode(wanted.mode);
  if (wanted.owner !== undefined) resolved.owner = await nameOfId(ctx, 'passwd', wanted.owner);
  if (wanted.group !== undefined) resolved.group = await nameOfId(ctx, 'group', wanted.group);
  return resolved;
}

async function nameOfId(ctx: ModuleContext, database: 'passwd' | 'group', value: string): Promise<string> {
  if (!/^\d+$/.test(value)) return value;
  const r = await ctx.host.exec(['getent', database, value]);
  const name = r.exitCode === 0 ? r.stdout.split(':')[0] : '';
  return name || value;
}

/** The attributes that differ; against a missing path (null) every wanted attribute is a change. */
export function attributeChanges(current: FileStat | null, wanted: FileAttributes): AttributeChange[] {
  const changes: AttributeChange[] = [];
  for (const field of ['mode', 'owner', 'group'] as const) {
    const after = wanted[field];
    if (after === undefined) continue;
    const before = current ? current[field] : '';
    if (before !== after) changes.push({ field, before, after });
  }
  return changes;
}

/** "mode 0644 → 0600, owner root → postgres" */
export function describeChanges(changes: AttributeChange[]): string {
  return changes.map((c) => (c.before ? `${c.field} ${c.before} → ${c.after}` : `${c.field} ${c.after}`)).join(', ');
}

export function attributesDiff(path: string, changes: AttributeChange[]): Diff {
  return {
    target: `${path} (attributes)`,
    before: changes.map((c) => `${c.field}: ${c.before}\n`).join(''),
    after: changes.map((c) => `${c.field}: ${c.after}\n`).join(''),
  };
}

interface ApplyAttributeOptions {
  /** Change a symbolic link itself, not its target (chown -h). */
  noDereference?: boolean;
  recursive?: boolean;
}

/** chown/chmod on the host, owner before mode so that setuid bits survive the chown. */
export async function applyAttributes(ctx: ModuleContext, path: string, changes: Pick<AttributeChange, 'field' | 'after'>[], opts: ApplyAttributeOptions = {}): Promise<void> {
  const owner = changes.find((c) => c.field === 'owner')?.after;
  const group = changes.find((c) => c.field === 'group')?.after;
  const mode = changes.find((c) => c.field === 'mode')?.after;
  const flags = [...(opts.recursive ? ['-R'] : []), ...(opts.noDereference ? ['-h'] : [])];
  if (owner || group) {
    const spec = `${owner ?? ''}${group ? `:${group}` : ''}`;
    await execOrFail(ctx, ['chown', ...flags, spec, '--', path], `cannot set owner ${spec} on ${path}`);
  }
  if (mode) {
    await execOrFail(ctx, ['chmod', ...(opts.recursive ? ['-R'] : []), mode, '--', path], `cannot set mode ${mode} on ${path}`);
  }
}
