// service_facts: every systemd service with its state and whether it is enabled, as Ansible's
// ansible_facts.services ("ssh.service": {name, state, status, source}).
import { ModuleError, type Module } from '../engine/types.js';

interface ServiceFact {
  name: string;
  state: string;
  status: string;
  source: 'systemd';
}

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  properties: {},
} as const;

/** `systemctl list-units` and `systemctl list-unit-files` (--no-legend --plain) → the facts. */
export function parseServices(units: string, unitFiles: string): Record<string, ServiceFact> {
  const services: Record<string, ServiceFact> = {};
  for (const line of unitFiles.split('\n')) {
    const [name, status] = line.trim().split(/\s+/);
    if (name?.endsWith('.service')) services[name] = { name, state: 'stopped', status: status ?? 'unknown', source: 'systemd' };
  }
  for (const line of units.split('\n')) {
    const [name, , active, sub] = line.trim().split(/\s+/);
    if (!name?.endsWith('.service')) continue;
    const state = sub === 'running' ? 'running' : active === 'failed' ? 'failed' : active === 'inactive' || sub === 'dead' ? 'stopped' : (sub ?? 'unknown');
    services[name] = { name, state, status: services[name]?.status ?? 'unknown', source: 'systemd' };
  }
  return services;
}

export const service_facts: Module<typeof schema, Record<string, ServiceFact>, never> = {
  name: 'service_facts',
  description: 'Report every service, its state and whether it is enabled (ansible_facts.services)',
  schema,
  readOnly: true,

  async observe(ctx) {
    const units = await ctx.host.exec(['systemctl', 'list-units', '--type=service', '--all', '--no-legend', '--plain', '--no-pager']);
    if (units.exitCode !== 0) throw new ModuleError(`service_facts: systemctl failed on ${ctx.host.name}: ${units.stderr.trim()} (is systemd running?)`);
    const files = await ctx.host.exec(['systemctl', 'list-unit-files', '--type=service', '--no-legend', '--plain', '--no-pager']);
    return parseServices(units.stdout, files.stdout);
  },

  plan: (services) => ({ changed: false, result: { ansible_facts: { ansible_services: services } } }),

  async apply() {
    return { changed: false };
  },
};
