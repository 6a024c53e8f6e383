// Commands the file modules run on a host: argv only, with the task's become settings,
// and a ModuleError naming the command when it fails.
import { ModuleError, type ModuleContext } from '../../engine/types.js';

/** Runs argv on the host; a non-zero exit becomes a ModuleError that starts with `what`. */
export async function execOrFail(ctx: ModuleContext, argv: string[], what: string): Promise<string> {
  const r = await ctx.host.exec(argv, { ...ctx.become });
  if (r.exitCode !== 0) {
    const reason = r.stderr.trim() || r.stdout.trim() || `exit code ${r.exitCode}`;
    throw new ModuleError(`${what}: ${reason}`, { cmd: argv, rc: r.exitCode });
  }
  return r.stdout;
}

/** Copies path beside itself the way Ansible names backups: path.PID.YYYY-MM-DD@HH:MM:SS~ */
export async function backupFile(ctx: ModuleContext, path: string): Promise<string> {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}@${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}~`;
  const backup = `${path}.${process.pid}.${stamp}`;
  await execOrFail(ctx, ['cp', '-p', '--', path, backup], `cannot back up ${path}`);
  return backup;
}
