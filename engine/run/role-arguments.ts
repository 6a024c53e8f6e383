// A role's meta/main.yml argument_specs (Ansible's format) checked against the variables the
// role will see on a host: required, type, choices. Options marked no_log are secrets.
import type { RoleInstance } from '../load/playbook.js';
import type { Scope } from '../expr/scope.js';
import { redactor } from '../secrets/redact.js';

const checks: Record<string, (v: unknown) => boolean> = {
  str: (v) => typeof v === 'string',
  path: (v) => typeof v === 'string',
  int: (v) => Number.isInteger(v) || (typeof v === 'string' && /^-?\d+$/.test(v)),
  float: (v) => typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))),
  bool: (v) => typeof v === 'boolean' || (typeof v === 'string' && /^(true|false|yes|no|on|off)$/i.test(v)),
  list: (v) => Array.isArray(v),
  dict: (v) => !!v && typeof v === 'object' && !Array.isArray(v),
  raw: () => true,
};

/** The first argument that does not satisfy the spec (its option name and a message), or null. */
export function checkRoleArguments(role: RoleInstance, scope: Scope): { option: string; message: string } | null {
  for (const [name, opt] of Object.entries(role.argumentSpec?.options ?? {})) {
    if (!scope.has(name)) {
      if (opt.required) return { option: name, message: `role ${role.name}: missing required argument '${name}'` };
      continue;
    }
    const value = scope.lookup(name).value;
    if (opt.no_log) redactor.add(value);
    const type = opt.type ?? 'str';
    if (checks[type] && !checks[type](value)) return { option: name, message: `role ${role.name}: argument '${name}' must be of type ${type}, got ${JSON.stringify(value)}` };
    if (opt.choices && !opt.choices.includes(value)) {
      return { option: name, message: `role ${role.name}: argument '${name}' must be one of: ${opt.choices.join(', ')}` };
    }
  }
  return null;
}
