// Facts about a host, gathered in one round trip: the play's gather_facts and the setup module
// both use this. Names and shapes follow Ansible's (hostname, distribution_major_version,
// memtotal_mb, processor_vcpus, interfaces and ansible_<interface>, mounts, default_ipv4).
import type { Host } from '../../engine/types.js';

/** Which of Ansible's gather_subset groups each fact belongs to ('min' facts are always there). */
export type FactSubset = 'min' | 'hardware' | 'network';

const SECTION = '@@plinth-facts@@';

const SCRIPT = [
  `echo "${SECTION} vars"`,
  'echo "hostname=$(hostname 2>/dev/null || cat /etc/hostname)"',
  'echo "fqdn=$(hostname -f 2>/dev/null || hostname)"',
  'echo "kernel=$(uname -r)"',
  'echo "system=$(uname -s)"',
  'echo "architecture=$(uname -m)"',
  'echo "user_id=$(id -un)"',
  'echo "user_uid=$(id -u)"',
  'echo "addresses=$(hostname -I 2>/dev/null || true)"',
  'echo "machine_id=$(cat /etc/machine-id 2>/dev/null || true)"',
  'echo "pid1=$(cat /proc/1/comm 2>/dev/null || true)"',
  'echo "timezone=$(cat /etc/timezone 2>/dev/null || true)"',
  'sed -n "s/^\\(ID\\|VERSION_ID\\|VERSION_CODENAME\\|NAME\\|PRETTY_NAME\\|ID_LIKE\\)=/os_&/p" /etc/os-release 2>/dev/null',
  `echo "${SECTION} meminfo"`,
  'cat /proc/meminfo 2>/dev/null',
  `echo "${SECTION} cpuinfo"`,
  'grep -E "^(processor|physical id|cpu cores)\\s*:" /proc/cpuinfo 2>/dev/null',
  `echo "${SECTION} addr"`,
  'ip -o addr show 2>/dev/null',
  `echo "${SECTION} link"`,
  'ip -o link show 2>/dev/null',
  `echo "${SECTION} route4"`,
  'ip -4 route show default 2>/dev/null',
  `echo "${SECTION} route6"`,
  'ip -6 route show default 2>/dev/null',
  `echo "${SECTION} mounts"`,
  'cat /proc/mounts 2>/dev/null',
  `echo "${SECTION} df"`,
  // -l: a hung network file system must not hang fact gathering.
  'timeout 10 df -P -B1 -l 2>/dev/null',
  `echo "${SECTION} end"`,
].join('; ');

export async function gatherHostFacts(host: Host): Promise<Record<string, unknown>> {
  const r = await host.exec(['sh', '-c', SCRIPT]);
  return parseHostFacts(r.stdout);
}

/** The facts from the script's output (exported for tests with captured output). */
function parseHostFacts(stdout: string): Record<string, unknown> {
  const sections = splitSections(stdout);
  const raw: Record<string, string> = {};
  for (const line of sections.vars ?? []) {
    const i = line.indexOf('=');
    if (i > 0) raw[line.slice(0, i)] = line.slice(i + 1).replace(/^"(.*)"$/, '$1');
  }
  const addresses = (raw.addresses ?? '').split(/\s+/).filter(Boolean);
  const interfaces = parseInterfaces(sections.addr ?? [], sections.link ?? []);
  const version = raw.os_VERSION_ID ?? '';
  const facts: Record<string, unknown> = {
    hostname: raw.hostname,
    nodename: raw.hostname,
    fqdn: raw.fqdn,
    kernel: raw.kernel,
    system: raw.system,
    architecture: raw.architecture,
    user_id: raw.user_id,
    user_uid: raw.user_uid === undefined ? undefined : Number(raw.user_uid),
    machine_id: raw.machine_id,
    service_mgr: raw.pid1 === 'systemd' ? 'systemd' : raw.pid1,
    distribution: raw.os_NAME?.split(' ')[0] ?? raw.os_ID,
    distribution_id: raw.os_ID,
    distribution_version: version,
    distribution_major_version: version.split('.')[0],
    distribution_release: raw.os_VERSION_CODENAME,
    os_family: /debian/.test(`${raw.os_ID} ${raw.os_ID_LIKE}`) ? 'Debian' : raw.os_ID,
    timezone: raw.timezone || undefined,
    ...memoryFacts(sections.meminfo ?? []),
    ...cpuFacts(sections.cpuinfo ?? []),
    interfaces: Object.keys(interfaces),
    all_ipv4_addresses: addresses.filter((a) => a.includes('.')),
    all_ipv6_addresses: addresses.filter((a) => a.includes(':')),
    default_ipv4: defaultRoute(sections.route4 ?? [], interfaces, 'ipv4'),
    default_ipv6: defaultRoute(sections.route6 ?? [], interfaces, 'ipv6'),
    mounts: parseMounts(sections.mounts ?? [], sections.df ?? []),
  };
  // Ansible names each interface's facts after it, with - and : made _ (ansible_eth0, ansible_br_lab).
  for (const [name, info] of Object.entries(interfaces)) facts[name.replace(/[-:.]/g, '_')] = info;
  if (!(facts.default_ipv4 as Record<string, unknown>).address && facts.all_ipv4_addresses) {
    facts.default_ipv4 = { address: (facts.all_ipv4_addresses as string[])[0] };
  }
  for (const k of Object.keys(facts)) if (facts[k] === undefined) delete facts[k];
  return facts;
}

/** Which subset a fact belongs to, for setup's gather_subset. */
export function subsetOf(name: string, facts: Record<string, unknown>): FactSubset {
  if (/^(memtotal_mb|memfree_mb|swaptotal_mb|swapfree_mb|processor_vcpus|processor_count|processor_cores|mounts)$/.test(name)) return 'hardware';
  if (/^(interfaces|all_ipv4_addresses|all_ipv6_addresses|default_ipv4|default_ipv6)$/.test(name)) return 'network';
  const interfaces = (facts.interfaces as string[] | undefined) ?? [];
  if (interfaces.some((i) => i.replace(/[-:.]/g, '_') === name)) return 'network';
  return 'min';
}

function splitSections(stdout: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let current = '';
  for (const line of stdout.split('\n')) {
    if (line.startsWith(SECTION)) {
      current = line.slice(SECTION.length).trim();
      out[current] = [];
    } else if (current) {
      out[current].push(line);
    }
  }
  return out;
}

function memoryFacts(lines: string[]): Record<string, number> {
  const kb: Record<string, number> = {};
  for (const line of lines) {
    const m = /^(\w+):\s+(\d+)/.exec(line);
    if (m) kb[m[1]] = Number(m[2]);
  }
  const mb = (k: string) => (kb[k] === undefined ? undefined : Math.floor(kb[k] / 1024));
  const facts: Record<string, number | undefined> = {
    memtotal_mb: mb('MemTotal'),
    memfree_mb: mb('MemFree'),
    swaptotal_mb: mb('SwapTotal'),
    swapfree_mb: mb('SwapFree'),
  };
  return Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined)) as Record<string, number>;
}

function cpuFacts(lines: string[]): Record<string, number> {
  const processors = lines.filter((l) => /^processor\s*:/.test(l)).length;
  if (processors === 0) return {};
  const sockets = new Set(lines.filter((l) => /^physical id/.test(l)).map((l) => l.split(':')[1].trim())).size || 1;
  const cores = Number(lines.find((l) => /^cpu cores/.test(l))?.split(':')[1]) || 1;
  // Ansible's processor_vcpus counts the processor entries, threads included.
  return { processor_vcpus: processors, processor_count: sockets, processor_cores: cores };
}

interface InterfaceFacts {
  device: string;
  active: boolean;
  mtu?: number;
  macaddress?: string;
  type?: string;
  ipv4?: { address: string; prefix: string; netmask: string; network: string; broadcast?: string };
  ipv4_secondaries?: { address: string; prefix: string; netmask: string; network: string }[];
  ipv6?: { address: string; prefix: string; scope: string }[];
}

/** `ip -o addr show` and `ip -o link show` lines → Ansible's per-interface facts. */
export function parseInterfaces(addrLines: string[], linkLines: string[]): Record<string, InterfaceFacts> {
  const out: Record<string, InterfaceFacts> = {};
  for (const line of linkLines) {
    const m = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>(.*)$/.exec(line);
    if (!m) continue;
    const [, name, flags, rest] = m;
    const link = /link\/(\w+)\s+([0-9a-f:]+)/.exec(rest);
    out[name] = {
      device: name,
      active: flags.split(',').includes('UP'),
      mtu: Number(/mtu (\d+)/.exec(rest)?.[1]) || undefined,
      ...(link ? { type: link[1] === 'ether' ? 'ether' : link[1], macaddress: link[2] } : {}),
    };
  }
  for (const line of addrLines) {
    const m = /^\d+:\s+(\S+)\s+(inet6?)\s+([^\s/]+)\/(\d+)(.*)$/.exec(line);
    if (!m) continue;
    const [, name, family, address, prefix, rest] = m;
    const iface = (out[name] ??= { device: name, active: true });
    if (family === 'inet') {
      const entry = { address, prefix, netmask: netmaskOf(Number(prefix)), network: networkOf(address, Number(prefix)) };
      const broadcast = /brd (\S+)/.exec(rest)?.[1];
      if (!iface.ipv4) iface.ipv4 = broadcast ? { ...entry, broadcast } : entry;
      else (iface.ipv4_secondaries ??= []).push(entry);
    } else {
      (iface.ipv6 ??= []).push({ address, prefix, scope: /scope (\w+)/.exec(rest)?.[1] ?? '' });
    }
  }
  return out;
}

function netmaskOf(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 255).join('.');
}

function networkOf(address: string, prefix: number): string {
  const mask = netmaskOf(prefix).split('.').map(Number);
  return address
    .split('.')
    .map((o, i) => Number(o) & mask[i])
    .join('.');
}

function defaultRoute(lines: string[], interfaces: Record<string, InterfaceFacts>, family: 'ipv4' | 'ipv6'): Record<string, unknown> {
  const line = lines.find((l) => l.startsWith('default'));
  if (!line) return {};
  const gateway = /via (\S+)/.exec(line)?.[1];
  const dev = /dev (\S+)/.exec(line)?.[1];
  const iface = dev ? interfaces[dev] : undefined;
  const address = family === 'ipv4' ? iface?.ipv4 : iface?.ipv6?.find((a) => a.scope === 'global');
  return { interface: dev, gateway, ...(address ?? {}), ...(iface?.macaddress ? { macaddress: iface.macaddress } : {}) };
}

interface MountFacts {
  mount: string;
  device: string;
  fstype: string;
  options: string;
  size_total?: number;
  size_available?: number;
}

/** /proc/mounts with the sizes `df` reports for local file systems. */
export function parseMounts(mountLines: string[], dfLines: string[]): MountFacts[] {
  const sizes = new Map<string, { total: number; available: number }>();
  for (const line of dfLines.slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 6 && /^\d+$/.test(f[1])) sizes.set(f.slice(5).join(' '), { total: Number(f[1]), available: Number(f[3]) });
  }
  const unescapeOctal = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: MountFacts[] = [];
  for (const line of mountLines) {
    const [device, mount, fstype, options] = line.split(' ');
    if (!mount || !fstype) continue;
    const m = unescapeOctal(mount);
    const size = sizes.get(m);
    out.push({ mount: m, device: unescapeOctal(device), fstype, options, ...(size ? { size_total: size.total, size_available: size.available } : {}) });
  }
  return out;
}
