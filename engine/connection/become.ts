// become: running a command as another user, by the method the inventory or the task names
// (become_method: sudo, su, runuser, doas), with become_flags added to that tool's options.
// The one place that knows each tool's command line.
import type { BecomeMethod } from '../types.js';
import { quoteArgv } from './shell-quote.js';
import { UserError } from '../user-error.js';

const BECOME_METHODS: readonly BecomeMethod[] = ['sudo', 'su', 'runuser', 'doas'];

export interface BecomeCommand {
  method: BecomeMethod;
  user: string;
  /** become_flags: extra options for the tool, split as a shell splits words. */
  flags?: string;
}

export class BecomeError extends UserError {
  override name = 'BecomeError';
}

/** A become_method as written (inventory or task), checked. */
export function becomeMethod(value: unknown): BecomeMethod {
  const method = value === undefined || value === null || value === '' ? 'sudo' : String(value);
  if (!(BECOME_METHODS as string[]).includes(method)) {
    throw new BecomeError(`become_method '${method}' is not supported; plinth knows ${BECOME_METHODS.join(', ')}`);
  }
  return method as BecomeMethod;
}

/**
 * The command that runs argv as `user`. `passwordPrompt`: the password will be written to stdin
 * when the tool asks (sudo asks with this prompt; su with PAM's "Password:"); without it the
 * tool must not ask (sudo -n, doas -n).
 */
export function becomeArgv(argv: string[], b: BecomeCommand, passwordPrompt?: string): string[] {
  const flags = (b.flags ?? '').split(/\s+/).filter(Boolean);
  switch (b.method) {
    case 'sudo':
      return ['sudo', ...(passwordPrompt !== undefined ? ['-S', '-p', passwordPrompt] : ['-n']), ...(b.flags === undefined ? ['-H'] : flags), '-u', b.user, '--', ...argv];
    case 'su':
      // su runs the user's login shell with -c; PAM's prompt is English only under LC_ALL=C.
      return ['env', 'LC_ALL=C', 'su', ...flags, b.user, '-c', quoteArgv(argv)];
    case 'runuser':
      return ['runuser', ...flags, '-u', b.user, '--', ...argv];
    case 'doas':
      if (passwordPrompt !== undefined) {
        throw new BecomeError('doas reads a password only from a terminal: give the login user a `permit nopass` rule in doas.conf, or use sudo or su');
      }
      return ['doas', '-n', ...flags, '-u', b.user, '--', ...argv];
  }
}

/** What the tool prints when it asks for the password (sudo's is ours, per call). */
export function passwordPromptOf(method: BecomeMethod, sudoPrompt: string): string {
  return method === 'sudo' ? sudoPrompt : 'Password:';
}

/**
 * The become password for a method, from inventory variables as Ansible's become plugins read
 * them: ansible_become_password (or _pass), overridden by the method's own
 * (ansible_sudo_password, ansible_su_password, ansible_doas_password, or *_pass).
 */
export function becomePasswords(vars: Record<string, unknown>): { any?: string } & Partial<Record<BecomeMethod, string>> {
  const str = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : String(v));
  const out: { any?: string } & Partial<Record<BecomeMethod, string>> = {};
  out.any = str(vars.ansible_become_password) ?? str(vars.ansible_become_pass);
  for (const m of BECOME_METHODS) {
    const own = str(vars[`ansible_${m}_password`]) ?? str(vars[`ansible_${m}_pass`]);
    if (own !== undefined) out[m] = own;
  }
  return out;
}
