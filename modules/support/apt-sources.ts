// What apt_repository and deb822_repository share: removing a sources file, and refreshing the
// package lists after a change.
import { ModuleError, type ModuleContext, type Plan } from '../../engine/types.js';
import { execOrFail } from './host-commands.js';
import type { ManagedFile } from './managed-file.js';
import { diffText } from './text.js';

/** The plan that removes a sources file: its content goes in the diff, and check mode sees it gone. */
export function planSourceFileRemoval<Action>(file: ManagedFile, summary: string, action: Action, result: Record<string, unknown>): Plan<Action> {
  return { changed: true, summary, diffs: [{ target: file.path, before: diffText(file.content), after: '' }], writes: [{ path: file.path, content: null }], action, result };
}

export async function removeSourceFile(ctx: ModuleContext, file: string): Promise<void> {
  await execOrFail(ctx, ['rm', '-f', '--', file], `cannot remove ${file}`);
}

export async function updatePackageLists(ctx: ModuleContext): Promise<void> {
  const r = await ctx.host.exec(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', '-q', '-o', 'DPkg::Lock::Timeout=300', 'update'], { ...ctx.become, timeout: 3600_000 });
  const errors = r.stderr.split('\n').filter((l) => /^(E|Err):/.test(l));
  if (r.exitCode !== 0 || errors.length) throw new ModuleError(`apt-get update failed: ${errors.join('; ') || r.stderr.trim() || `exit code ${r.exitCode}`}`);
}
