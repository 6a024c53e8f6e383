// service: Ansible's init-neutral module. plinth's hosts run systemd, so it is the systemd module
// with service's arguments.
import { ModuleError } from '../engine/types.js';
import { systemd } from './systemd.js';
import { moduleAlias } from './support/module-alias.js';

const systemdProperties = systemd.schema.properties;

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: systemdProperties.name,
    state: systemdProperties.state,
    enabled: systemdProperties.enabled,
    use: { enum: ['auto', 'systemd'], default: 'auto', description: 'the service manager; plinth knows systemd' },
  },
  anyOf: [{ required: ['state'] }, { required: ['enabled'] }],
  'x-message': 'say what to do with the service: state (started, stopped, restarted, reloaded) or enabled',
} as const;

export const service = moduleAlias(systemd, {
  name: 'service',
  description: 'Start, stop, restart, reload or enable a service (with systemd)',
  schema,
  toBase: (args) => ({ name: args.name, state: args.state, enabled: args.enabled, daemon_reload: false, no_block: false }),
  checkHost(ctx, args) {
    const manager = ctx.facts.service_mgr;
    if (args.use !== 'systemd' && manager !== undefined && manager !== 'systemd') {
      throw new ModuleError(`service: plinth manages services with systemd only; ${ctx.host.name} runs ${String(manager)}`);
    }
  },
});
