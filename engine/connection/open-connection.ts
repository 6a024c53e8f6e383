// Opens the connection an inventory host asks for: `local`, or `ssh` (the default).
import type { BecomeOptions, Host } from '../types.js';
import { becomeMethod } from './become.js';
import { connectSsh } from './ssh-options.js';
import { LocalHost } from './local.js';
import { redactor } from '../secrets/redact.js';
import { UserError } from '../user-error.js';

export interface ConnectionVars {
  [name: string]: unknown;
}

/** Connection variables that hold passwords: never printed. */
export const SECRET_CONNECTION_VARS = [
  'ansible_password',
  'ansible_ssh_pass',
  'ansible_ssh_password',
  'ansible_ssh_private_key_passphrase',
  'ansible_become_password',
  'ansible_become_pass',
  'ansible_sudo_pass',
  'ansible_sudo_password',
  'ansible_su_pass',
  'ansible_su_password',
  'ansible_doas_pass',
  'ansible_doas_password',
];

/** Hosts that mean "this machine" unless the inventory says otherwise. */
const LOCAL_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

export async function openConnection(name: string, vars: ConnectionVars): Promise<Host> {
  const become: BecomeOptions = {
    become: truthy(vars.ansible_become),
    becomeUser: vars.ansible_become_user as string | undefined,
    becomeMethod: vars.ansible_become_method === undefined ? undefined : becomeMethod(vars.ansible_become_method),
    becomeFlags: vars.ansible_become_flags === undefined ? undefined : String(vars.ansible_become_flags),
  };
  const kind = (vars.ansible_connection as string | undefined) ?? (LOCAL_NAMES.has(name) && !vars.ansible_host ? 'local' : 'ssh');
  if (kind === 'local') return new LocalHost(name, become);
  if (kind !== 'ssh') throw new UserError(`host ${name}: unsupported ansible_connection '${kind}' (plinth knows local and ssh)`);
  for (const secret of SECRET_CONNECTION_VARS) redactor.add(vars[secret]);
  return connectSsh(name, vars, become);
}

export function truthy(v: unknown): boolean {
  if (typeof v === 'string') return ['true', 'yes', 'on', '1'].includes(v.toLowerCase());
  return Boolean(v);
}
