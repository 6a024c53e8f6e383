// community.postgresql.postgresql_pg_hba on plinth's pg_hba: one rule (contype, databases,
// users, source, method, options) present or absent. plinth keeps its rules in a marked block
// of pg_hba.conf; like Ansible's module it does not reload the server (notify a handler).
import { ModuleError } from '../engine/types.js';
import { pg_hba } from './pg_hba.js';
import { moduleAlias } from './support/module-alias.js';

interface PostgresqlPgHbaArgs {
  dest: string;
  contype?: string;
  databases: string;
  users: string;
  source?: string;
  netmask?: string;
  method: string;
  options?: string;
  state: 'present' | 'absent';
  create: boolean;
}

const hbaEntry = ((pg_hba.schema.properties as Record<string, any>).entries.items.properties) as Record<string, Record<string, unknown>>;

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['dest'],
  properties: {
    dest: { type: 'string', pattern: '^/', description: 'the pg_hba.conf file' },
    contype: { ...hbaEntry.type, description: 'local, host, hostssl, ... (required with state present)' },
    databases: { type: 'string', minLength: 1, default: 'all', description: 'database name(s), comma-separated' },
    users: { type: 'string', minLength: 1, default: 'all', description: 'role name(s), comma-separated' },
    source: { type: 'string', minLength: 1, description: 'address: CIDR, host name, all, samehost, samenet (not with local)' },
    netmask: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+\\.\\d+$', description: 'netmask of an address given without a prefix length' },
    method: { ...hbaEntry.method, default: 'md5', description: 'authentication method' },
    options: { type: 'string', minLength: 1, description: 'auth options, e.g. clientcert=verify-full' },
    state: { enum: ['present', 'absent'], default: 'present', description: 'whether the rule should be there' },
    create: { type: 'boolean', default: false, description: 'accepted: plinth creates the file when it is missing' },
  },
} as const;

function cidr(source: string, netmask: string | undefined): string {
  if (!netmask) return source;
  const bits = netmask.split('.').map(Number).reduce((n, octet) => n + (octet >>> 0).toString(2).replace(/0/g, '').length, 0);
  return `${source}/${bits}`;
}

export const postgresql_pg_hba = moduleAlias(pg_hba, {
  name: 'postgresql_pg_hba',
  description: 'community.postgresql.postgresql_pg_hba on pg_hba: one pg_hba.conf rule present or absent',
  schema,
  toBase(args: PostgresqlPgHbaArgs) {
    if (!args.contype) throw new ModuleError('postgresql_pg_hba: contype is required');
    if (args.contype === 'local' && args.source) throw new ModuleError('postgresql_pg_hba: a local rule takes no source');
    if (args.contype !== 'local' && !args.source) throw new ModuleError(`postgresql_pg_hba: a ${args.contype} rule needs a source`);
    const entry = {
      type: args.contype,
      database: args.databases ?? 'all',
      user: args.users ?? 'all',
      ...(args.source ? { address: cidr(args.source, args.netmask) } : {}),
      method: args.method ?? 'md5',
      ...(args.options ? { options: args.options } : {}),
      state: args.state ?? 'present',
    };
    // Ansible's module only edits the file; a reload is the play's to ask for (a handler).
    return { entries: [entry], path: args.dest, reload: false } as never;
  },
  result: (r, args) => ({ ...r, pg_hba: args.dest }),
});
