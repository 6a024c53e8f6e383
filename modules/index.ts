// The module registry: every module plinth knows, by name, and how to load it. A module is
// imported only when a playbook names it, so a run pays only for the modules it uses.
// Add a module with one line: `name: async () => (await import('./file.js')).exportedName,`.
import type { Module } from '../engine/types.js';

const registry: Record<string, () => Promise<Module>> = {
  command: async () => (await import('./command.js')).command,
  shell: async () => (await import('./shell.js')).shell,
  file: async () => (await import('./file.js')).file,
  copy: async () => (await import('./copy.js')).copy,
  synchronize: async () => (await import('./synchronize.js')).synchronize,
  template: async () => (await import('./template.js')).template,
  lineinfile: async () => (await import('./lineinfile.js')).lineinfile,
  blockinfile: async () => (await import('./blockinfile.js')).blockinfile,
  stat: async () => (await import('./stat.js')).stat,
  slurp: async () => (await import('./slurp.js')).slurp,
  assert: async () => (await import('./assert.js')).assert,
  set_fact: async () => (await import('./set_fact.js')).set_fact,
  debug: async () => (await import('./debug.js')).debug,
  fail: async () => (await import('./fail.js')).fail,
  pgpool_enc: async () => (await import('./pgpool_enc.js')).pgpoolEnc,
  k8s: async () => (await import('./k8s.js')).k8s,
  coredns_hosts: async () => (await import('./coredns_hosts.js')).corednsHosts,
  apt: async () => (await import('./apt.js')).apt,
  systemd: async () => (await import('./systemd.js')).systemd,
  postgres_conf: async () => (await import('./postgres_conf.js')).postgres_conf,
  pg_hba: async () => (await import('./pg_hba.js')).pg_hba,
  postgres_role: async () => (await import('./postgres_role.js')).postgres_role,
  basebackup: async () => (await import('./basebackup.js')).basebackup,
  postgres_query: async () => (await import('./postgres_query.js')).postgres_query,
  postgres_db: async () => (await import('./postgres_db.js')).postgres_db,
  postgres_privs: async () => (await import('./postgres_privs.js')).postgres_privs,
  postgres_standby_health: async () => (await import('./postgres_standby_health.js')).postgres_standby_health,
  postgres_restart: async () => (await import('./postgres_restart.js')).postgres_restart,
  ping: async () => (await import('./ping.js')).ping,
  setup: async () => (await import('./setup.js')).setup,
  wait_for: async () => (await import('./wait_for.js')).wait_for,
  uri: async () => (await import('./uri.js')).uri,
  group: async () => (await import('./group.js')).group,
  user: async () => (await import('./user.js')).user,
  authorized_key: async () => (await import('./authorized_key.js')).authorized_key,
  replace: async () => (await import('./replace.js')).replace,
  sysctl: async () => (await import('./sysctl.js')).sysctl,
  package: async () => (await import('./package.js')).packageModule,
  service: async () => (await import('./service.js')).service,
  get_url: async () => (await import('./get_url.js')).get_url,
  fetch: async () => (await import('./fetch.js')).fetch,
  hostname: async () => (await import('./hostname.js')).hostname,
  timezone: async () => (await import('./timezone.js')).timezone,
  service_facts: async () => (await import('./service_facts.js')).service_facts,
  openssh_keypair: async () => (await import('./openssh_keypair.js')).openssh_keypair,
  cron: async () => (await import('./cron.js')).cron,
  locale_gen: async () => (await import('./locale_gen.js')).locale_gen,
  unarchive: async () => (await import('./unarchive.js')).unarchive,
  mount: async () => (await import('./mount.js')).mount,
  modprobe: async () => (await import('./modprobe.js')).modprobe,
  apt_repository: async () => (await import('./apt_repository.js')).apt_repository,
  deb822_repository: async () => (await import('./deb822_repository.js')).deb822_repository,
  postgresql_user: async () => (await import('./postgresql_user.js')).postgresql_user,
  postgresql_query: async () => (await import('./postgresql_query.js')).postgresql_query,
  postgresql_set: async () => (await import('./postgresql_set.js')).postgresql_set,
  postgresql_pg_hba: async () => (await import('./postgresql_pg_hba.js')).postgresql_pg_hba,
  postgresql_db: async () => (await import('./postgresql_db.js')).postgresql_db,
  postgresql_privs: async () => (await import('./postgresql_privs.js')).postgresql_privs,
};

/** name → its loader: what the playbook loader takes (it loads only the modules a playbook names). */
export const moduleLoaders: ReadonlyMap<string, () => Promise<Module>> = new Map(Object.entries(registry));

/** Every module, loaded (for `plinth modules`, the published schemas and the build's validators). */
export async function allModules(): Promise<ReadonlyMap<string, Module>> {
  const loaded = await Promise.all(
    [...moduleLoaders].map(async ([name, load]) => {
      const m = await load();
      if (m.name !== name) throw new Error(`modules/index.ts: '${name}' loads the module named '${m.name}'`);
      return [name, m] as const;
    }),
  );
  return new Map(loaded);
}
