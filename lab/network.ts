// The lab network: a bridge in the root namespace, one network namespace per host, and a
// veth pair from each namespace into the bridge. Lab number N uses 198.18.N.0/24 (RFC 2544,
// reserved for benchmarking, so it collides with nothing real): the default lab is number 0,
// each named lab gets the lowest free number when it first comes up, so labs never share a
// subnet, a bridge, a namespace or a veth. Hosts get no default route: they reach each other
// and their lab's package proxy on the bridge address, nothing else.
import { promises as fs } from 'node:fs';
import { LabError } from './lab-error.js';
import { acquireLock } from './lock.js';
import { run, tryRun } from './run.js';
import { knownLabs, StateDir } from './state-dir.js';

export const FIRST_HOST_OCTET = 10;
export const APT_PROXY_PORT = 3142;
const MAX_LAB_INDEX = 254;

/** The names and addresses of one lab's network, all derived from its number. */
export class LabNetwork {
  constructor(readonly index: number) {}

  get subnet(): string {
    return `198.18.${this.index}.0/24`;
  }
  get gateway(): string {
    return `198.18.${this.index}.1`;
  }
  get aptProxyUrl(): string {
    return `http://${this.gateway}:${APT_PROXY_PORT}`;
  }
  get bridge(): string {
    return `plinth-br${this.index}`;
  }
  /** Prefix of the lab's namespaces and nspawn machine names: plinth-<host> for the default lab, plabN-<host> for others. */
  get prefix(): string {
    return this.index === 0 ? 'plinth-' : `plab${this.index}-`;
  }
  /** Tags the firewall rule the lab adds, so `down` removes exactly that rule. */
  get ruleComment(): string {
    return this.index === 0 ? 'plinth-lab' : `plinth-lab-${this.index}`;
  }

  netnsName(host: string): string {
    return `${this.prefix}${host}`;
  }
  address(octet: number): string {
    return `198.18.${this.index}.${octet}`;
  }
  inSubnet(address: string): boolean {
    return address.startsWith(`198.18.${this.index}.`);
  }
  /** Host-side veths: plv<last octet> for the default lab, plNv<last octet> for lab N (at most 15 characters). */
  vethName(address: string): string {
    const octet = address.split('.')[3];
    return this.index === 0 ? `plv${octet}` : `pl${this.index}v${octet}`;
  }
  isOwnVeth(name: string): boolean {
    return (this.index === 0 ? /^plv\d+$/ : new RegExp(`^pl${this.index}v\\d+$`)).test(name);
  }
}

/** The network of a lab that has come up before, or null (a named lab that never did). */
export async function readLabNetwork(dirs: StateDir): Promise<LabNetwork | null> {
  if (dirs.isDefault) return new LabNetwork(0);
  const text = await fs.readFile(dirs.index, 'utf8').catch(() => null);
  const index = Number(text?.trim());
  return text !== null && Number.isInteger(index) && index > 0 ? new LabNetwork(index) : null;
}

/** The lab's network; a named lab coming up for the first time takes the lowest number no other lab has. */
export async function ensureLabNetwork(dirs: StateDir): Promise<LabNetwork> {
  const known = await readLabNetwork(dirs);
  if (known) return known;
  const release = await acquireLock(dirs.indexLock, { waitMs: 60_000, what: 'lab numbering' });
  try {
    const taken = new Set<number>([0]);
    for (const name of await knownLabs(dirs.top)) {
      const other = await readLabNetwork(new StateDir(name, dirs.top));
      if (other) taken.add(other.index);
    }
    let index = 1;
    while (taken.has(index) || (await subnetRoutedElsewhere(new LabNetwork(index)))) index++;
    if (index > MAX_LAB_INDEX) throw new LabError('no free lab subnet left in 198.18.0.0/16: take a lab down first');
    await fs.mkdir(dirs.root, { recursive: true });
    await fs.writeFile(dirs.index, `${index}\n`);
    return new LabNetwork(index);
  } finally {
    await release();
  }
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function overlaps(cidr: string, other: string): boolean {
  const [a, aBits = '32'] = cidr.split('/');
  const [b, bBits = '32'] = other.split('/');
  const bits = Math.min(Number(aBits), Number(bBits));
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (ipToInt(a) & mask) >>> 0 === (ipToInt(b) & mask) >>> 0;
}

/** A route to the lab's subnet through anything but the lab's own bridge. */
async function subnetRoutedElsewhere(net: LabNetwork): Promise<{ dst: string; dev?: string } | null> {
  const routes = JSON.parse(await run(['ip', '-j', '-4', 'route', 'show', 'table', 'all'])) as { dst: string; dev?: string; table?: string }[];
  for (const r of routes) {
    if (r.dst === 'default' || r.dev === net.bridge) continue;
    if (!/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(r.dst)) continue;
    if (r.dst.endsWith('/0')) continue;
    if (overlaps(r.dst, net.subnet)) return r;
  }
  return null;
}

async function linkExists(name: string, netns?: string): Promise<boolean> {
  const ns = netns ? ['-n', netns] : [];
  return (await tryRun(['ip', ...ns, 'link', 'show', 'dev', name])).code === 0;
}

/** Refuses to start when something other than the lab already routes the lab's subnet. */
export async function checkSubnetFree(net: LabNetwork): Promise<void> {
  const r = await subnetRoutedElsewhere(net);
  if (r) {
    throw new LabError(`${net.subnet} is already routed by something else (${r.dst} via ${r.dev ?? '?'}); ` + 'the lab needs that subnet to itself: remove that route or interface first');
  }
}

/** Creates the bridge with its address, when missing. */
export async function ensureBridge(net: LabNetwork): Promise<void> {
  if (!(await linkExists(net.bridge))) {
    await run(['ip', 'link', 'add', net.bridge, 'type', 'bridge']);
    await run(['ip', 'addr', 'add', `${net.gateway}/24`, 'dev', net.bridge]);
  }
  await run(['ip', 'link', 'set', net.bridge, 'up']);
  await allowBridgeForwarding(net);
}

/**
 * With br_netfilter loaded, traffic between two ports of the bridge passes iptables FORWARD.
 * Only when that chain would not accept it do we add one tagged rule (and `down` removes it).
 */
async function allowBridgeForwarding(net: LabNetwork): Promise<void> {
  const nfCall = await fs.readFile('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').catch(() => '0');
  if (nfCall.trim() !== '1') return;
  const chain = await tryRun(['iptables', '-S', 'FORWARD']).catch(() => null);
  if (chain?.code !== 0) return;
  if (chain.stdout.includes(`-P FORWARD ACCEPT`) || forwardRules(chain.stdout, net).length > 0) return;
  await run(['iptables', '-I', 'FORWARD', '-i', net.bridge, '-o', net.bridge, '-m', 'comment', '--comment', net.ruleComment, '-j', 'ACCEPT']);
}

/** The lab's own FORWARD rules in `iptables -S` output, as argument lists without "-A FORWARD". */
function forwardRules(listing: string, net: LabNetwork): string[][] {
  return listing
    .split('\n')
    .filter((line) => line.startsWith('-A FORWARD '))
    .map((line) => line.replace(/^-A FORWARD /, '').split(' '))
    .filter((spec) => spec[spec.indexOf('--comment') + 1] === net.ruleComment);
}

async function netnsDirIsMounted(): Promise<boolean> {
  const mounts = await fs.readFile('/proc/mounts', 'utf8');
  return mounts.split('\n').some((l) => l.split(' ')[1] === '/run/netns');
}

/**
 * The first `ip netns add` on a machine bind-mounts /run/netns onto itself. When the lab is
 * what caused that, it leaves a marker so that `down` can undo it.
 */
export async function noteNetnsMount(marker: string): Promise<void> {
  if (!(await netnsDirIsMounted())) await fs.writeFile(marker, 'ip netns add by plinth lab mounted /run/netns\n');
}

/** Creates the host's namespace, its veth into the bridge and its address. Idempotent. */
export async function ensureHostNetwork(net: LabNetwork, host: string, address: string): Promise<void> {
  const ns = net.netnsName(host);
  const veth = net.vethName(address);
  if ((await tryRun(['ip', 'netns', 'pids', ns])).code !== 0) await run(['ip', 'netns', 'add', ns]);
  if (!(await linkExists('eth0', ns))) {
    await tryRun(['ip', 'link', 'del', veth]);
    await run(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  }
  await run(['ip', 'link', 'set', veth, 'master', net.bridge, 'up']);
  const addrs = await run(['ip', '-n', ns, '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
  if (!addrs.includes(` ${address}/24 `)) await run(['ip', '-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
  await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
}

/** The lab's namespaces that exist now (named <prefix><host>). */
export async function labNamespaces(net: LabNetwork): Promise<string[]> {
  const out = (await tryRun(['ip', 'netns', 'list'])).stdout;
  return out
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(net.prefix));
}

/** Removes every namespace, veth, bridge and firewall rule of the lab; missing pieces are skipped. */
export async function removeNetwork(net: LabNetwork, netnsMountMarker: string): Promise<void> {
  for (const ns of await labNamespaces(net)) await run(['ip', 'netns', 'del', ns]);
  const marker = await fs.stat(netnsMountMarker).then(
    () => true,
    () => false,
  );
  const others = (await tryRun(['ip', 'netns', 'list'])).stdout.trim();
  // The mount is shared by every lab: only the last one down removes it.
  if (marker && others === '') {
    if (await netnsDirIsMounted()) await run(['umount', '/run/netns']);
    await fs.rm(netnsMountMarker, { force: true });
  }
  const links = JSON.parse((await tryRun(['ip', '-j', 'link', 'show'])).stdout || '[]') as { ifname: string; master?: string }[];
  for (const l of links) {
    if (net.isOwnVeth(l.ifname) && (l.master === net.bridge || !l.master)) await tryRun(['ip', 'link', 'del', l.ifname]);
  }
  if (await linkExists(net.bridge)) await run(['ip', 'link', 'del', net.bridge]);
  const chain = await tryRun(['iptables', '-S', 'FORWARD']).catch(() => null);
  if (chain?.code !== 0) return;
  for (const spec of forwardRules(chain.stdout, net)) await run(['iptables', '-D', 'FORWARD', ...spec]);
}

/** True when the lab's bridge exists. */
export async function bridgeExists(net: LabNetwork): Promise<boolean> {
  return linkExists(net.bridge);
}
