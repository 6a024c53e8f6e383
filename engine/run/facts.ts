// Facts the modules and playbooks need, gathered in one round trip per host.
import type { Host } from '../types.js';

const SCRIPT = [
  'echo "hostname=$(hostname 2>/dev/null || cat /etc/hostname)"',
  'echo "fqdn=$(hostname -f 2>/dev/null || hostname)"',
  'echo "kernel=$(uname -r)"',
  'echo "system=$(uname -s)"',
  'echo "architecture=$(uname -m)"',
  'echo "user_id=$(id -un)"',
  'echo "addresses=$(hostname -I 2>/dev/null || true)"',
  'echo "machine_id=$(cat /etc/machine-id 2>/dev/null || true)"',
  'echo "pid1=$(cat /proc/1/comm 2>/dev/null || true)"',
  'sed -n "s/^\\(ID\\|VERSION_ID\\|VERSION_CODENAME\\|NAME\\|PRETTY_NAME\\|ID_LIKE\\)=/os_&/p" /etc/os-release 2>/dev/null',
].join('; ');

export async function gatherFacts(host: Host): Promise<Record<string, unknown>> {
  const r = await host.exec(['sh', '-c', SCRIPT]);
  const raw: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) raw[line.slice(0, i)] = line.slice(i + 1).replace(/^"(.*)"$/, '$1');
  }
  const addresses = (raw.addresses ?? '').split(/\s+/).filter(Boolean);
  const facts = {
    hostname: raw.hostname,
    fqdn: raw.fqdn,
    kernel: raw.kernel,
    system: raw.system,
    architecture: raw.architecture,
    user_id: raw.user_id,
    machine_id: raw.machine_id,
    service_mgr: raw.pid1 === 'systemd' ? 'systemd' : raw.pid1,
    distribution: raw.os_NAME?.split(' ')[0] ?? raw.os_ID,
    distribution_id: raw.os_ID,
    distribution_version: raw.os_VERSION_ID,
    distribution_release: raw.os_VERSION_CODENAME,
    os_family: /debian/.test(`${raw.os_ID} ${raw.os_ID_LIKE}`) ? 'Debian' : raw.os_ID,
    all_ipv4_addresses: addresses.filter((a) => a.includes('.')),
    all_ipv6_addresses: addresses.filter((a) => a.includes(':')),
    default_ipv4: { address: addresses.find((a) => a.includes('.')) },
  };
  return facts;
}

/** Ansible's names for the same facts: ansible_hostname, ansible_distribution, ... */
export function factVariables(facts: Record<string, unknown>): Record<string, unknown> {
  const vars: Record<string, unknown> = { ansible_facts: facts, facts };
  for (const [k, v] of Object.entries(facts)) vars[`ansible_${k}`] = v;
  return vars;
}
