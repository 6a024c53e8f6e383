// package: Ansible's package manager-neutral module. plinth manages Debian hosts, so it is the
// apt module with package's arguments (installed/removed are present/absent).
import { ModuleError } from '../engine/types.js';
import { apt } from './apt.js';
import { moduleAlias } from './support/module-alias.js';

const STATES = { present: 'present', installed: 'present', absent: 'absent', removed: 'absent', latest: 'latest' } as const;

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: apt.schema.properties.name,
    state: { enum: ['present', 'installed', 'absent', 'removed', 'latest'], default: 'present', description: 'present/installed, absent/removed, or latest' },
    use: { enum: ['auto', 'apt'], default: 'auto', description: 'the package manager; plinth knows apt (Debian and Ubuntu)' },
  },
} as const;

export const packageModule = moduleAlias(apt, {
  name: 'package',
  description: 'Install or remove packages with the host’s package manager (apt)',
  schema,
  toBase: (args) => ({ name: args.name, state: STATES[args.state], update_cache: false, purge: false, autoremove: false }),
  checkHost(ctx, args) {
    const family = ctx.facts.os_family;
    if (args.use !== 'apt' && family !== undefined && family !== 'Debian') {
      throw new ModuleError(`package: plinth installs packages with apt only; ${ctx.host.name} is ${String(family)}`);
    }
  },
});
