// Users and groups as the host's name service sees them (getent), shared by user, group and
// authorized_key.
import { ModuleError, type ModuleContext } from '../../engine/types.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  comment: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export async function getent(ctx: ModuleContext, database: 'passwd' | 'group' | 'shadow', key: string): Promise<string[] | null> {
  const r = await ctx.host.exec(['getent', database, key], database === 'shadow' ? { ...ctx.become } : {});
  if (r.exitCode === 2) return null;
  if (r.exitCode !== 0) throw new ModuleError(`getent ${database} ${key} failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
  return getentFields(r.stdout);
}

/** getent's first line, split at ':'. */
export function getentFields(stdout: string): string[] {
  return stdout.replace(/\n$/, '').split('\n')[0].split(':');
}

export async function passwdEntry(ctx: ModuleContext, name: string): Promise<PasswdEntry | null> {
  const f = await getent(ctx, 'passwd', name);
  return f && passwdFields(f);
}

/** The fields of a passwd line (name:x:uid:gid:gecos:home:shell). */
export function passwdFields(f: string[]): PasswdEntry {
  return { name: f[0], uid: Number(f[2]), gid: Number(f[3]), comment: f[4], home: f[5], shell: f[6] };
}

export async function groupEntry(ctx: ModuleContext, nameOrGid: string): Promise<GroupEntry | null> {
  const f = await getent(ctx, 'group', nameOrGid);
  return f && groupFields(f);
}

/** The fields of a group line (name:x:gid:member,member). */
export function groupFields(f: string[]): GroupEntry {
  return { name: f[0], gid: Number(f[2]), members: f[3] ? f[3].split(',') : [] };
}

/** A user name the shadow tools accept (and nothing a shell or option parser could misread). */
export const ACCOUNT_NAME = '^[a-z_][a-z0-9_.-]*\\$?$';
