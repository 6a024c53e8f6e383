// What apt_repository and deb822_repository share: refreshing the package lists after a change.
import { ModuleError, type ModuleContext } from '../../engine/types.js';

export async function updatePackageLists(ctx: ModuleContext): Promise<void> {
  const r = await ctx.host.exec(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', '-q', '-o', 'DPkg::Lock::Timeout=300', 'update'], { ...ctx.become, timeout: 3600_000 });
  const errors = r.stderr.split('\n').filter((l) => /^(E|Err):/.test(l));
  if (r.exitCode !== 0 || errors.length) throw new ModuleError(`apt-get update failed: ${errors.join('; ') || r.stderr.trim() || `exit code ${r.exitCode}`}`);
}
