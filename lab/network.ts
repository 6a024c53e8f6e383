// The lab network: a bridge in the root namespace, one network namespace per host, and a
// veth pair from each namespace into the bridge. Addresses come from 198.18.0.0/24 (RFC 2544,
// reserved for benchmarking, so it collides with nothing real). Hosts get no default route:
// they reach each other and the lab's package proxy on the bridge address, nothing else.
import { promises as fs } from 'node:fs';
import { LabError } from './errors.js';
import { run, tryRun } from './run.js';

export const SUBNET = '198.18.0.0/24';
export const BRIDGE = 'plinth-br0';
export const BRIDGE_ADDRESS = '198.18.0.1';
export const FIRST_HOST_OCTET = 10;
export const APT_PROXY_PORT = 3142;
export const APT_PROXY_URL = `http://${BRIDGE_ADDRESS}:${APT_PROXY_PORT}`;
/** Tags the firewall rule the lab adds, so `down` removes exactly that rule. */
const RULE_COMMENT = 'plinth-lab';
/** Prefix of the lab's namespaces (plinth-<host>) and host-side veths (plv<last octet>). */
export const NETNS_PREFIX = 'plinth-';
const VETH_PREFIX = 'plv';

export function netnsName(host: string): string {
  return `${NETNS_PREFIX}${host}`;
}

export function hostAddress(index: number): string {
  return `198.18.0.${FIRST_HOST_OCTET + index}`;
}

function vethName(address: string): string {
  return `${VETH_PREFIX}${address.split('.')[3]}`;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function overlaps(cidr: string, other: string): boolean {
  const [a, aBits = '32'] = cidr.split('/');
  const [b, bBits = '32'] = other.split('/');
  const bits = Math.min(Number(aBits), Number(bBits));
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((ipToInt(a) & mask) >>> 0) === ((ipToInt(b) & mask) >>> 0);
}

async function linkExists(name: string, netns?: string): Promise<boolean> {
  const ns = netns ? ['-n', netns] : [];
  return (await tryRun(['ip', ...ns, 'link', 'show', 'dev', name])).code === 0;
}

/** Refuses to start when something other than the lab already routes the lab's subnet. */
export async function checkSubnetFree(): Promise<void> {
  const routes = JSON.parse(await run(['ip', '-j', '-4', 'route', 'show', 'table', 'all'])) as
    { dst: string; dev?: string; table?: string }[];
  for (const r of routes) {
    if (r.dst === 'default' || r.dev === BRIDGE || r.table === 'local' && r.dev === BRIDGE) continue;
    if (!/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(r.dst)) continue;
    if (r.dst.endsWith('/0')) continue;
    if (overlaps(r.dst, SUBNET)) {
      throw new LabError(
        `${SUBNET} is already routed by something else (${r.dst} via ${r.dev ?? '?'}); ` +
          'the lab needs that subnet to itself: remove that route or interface first',
      );
    }
  }
}

/** Creates the bridge with its address, when missing. */
export async function ensureBridge(): Promise<void> {
  if (!(await linkExists(BRIDGE))) {
    await run(['ip', 'link', 'add', BRIDGE, 'type', 'bridge']);
    await run(['ip', 'addr', 'add', `${BRIDGE_ADDRESS}/24`, 'dev', BRIDGE]);
  }
  await run(['ip', 'link', 'set', BRIDGE, 'up']);
  await allowBridgeForwarding();
}

/**
 * With br_netfilter loaded, traffic between two ports of the bridge passes iptables FORWARD.
 * Only when that chain would not accept it do we add one tagged rule (and `down` removes it).
 */
async function allowBridgeForwarding(): Promise<void> {
  const nfCall = await fs.readFile('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').catch(() => '0');
  if (nfCall.trim() !== '1') return;
  const chain = await tryRun(['iptables', '-S', 'FORWARD']).catch(() => null);
  if (!chain || chain.code !== 0) return;
  if (chain.stdout.includes(`-P FORWARD ACCEPT`) || chain.stdout.includes(RULE_COMMENT)) return;
  await run(['iptables', '-I', 'FORWARD', '-i', BRIDGE, '-o', BRIDGE, '-m', 'comment', '--comment', RULE_COMMENT,
    '-j', 'ACCEPT']);
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
export async function ensureHostNetwork(host: string, address: string): Promise<void> {
  const ns = netnsName(host);
  const veth = vethName(address);
  if ((await tryRun(['ip', 'netns', 'pids', ns])).code !== 0) await run(['ip', 'netns', 'add', ns]);
  if (!(await linkExists('eth0', ns))) {
    await tryRun(['ip', 'link', 'del', veth]);
    await run(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  }
  await run(['ip', 'link', 'set', veth, 'master', BRIDGE, 'up']);
  const addrs = await run(['ip', '-n', ns, '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
  if (!addrs.includes(` ${address}/24 `)) await run(['ip', '-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
  await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
}

/** The lab's namespaces that exist now (named plinth-<host>). */
export async function labNamespaces(): Promise<string[]> {
  const out = (await tryRun(['ip', 'netns', 'list'])).stdout;
  return out.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(NETNS_PREFIX));
}

/** Removes every namespace, veth, bridge and firewall rule of the lab; missing pieces are skipped. */
export async function removeNetwork(netnsMountMarker: string): Promise<void> {
  for (const ns of await labNamespaces()) await run(['ip', 'netns', 'del', ns]);
  const marker = await fs.stat(netnsMountMarker).then(() => true, () => false);
  if (marker) {
    const others = (await tryRun(['ip', 'netns', 'list'])).stdout.trim();
    if (others === '' && (await netnsDirIsMounted())) await run(['umount', '/run/netns']);
    await fs.rm(netnsMountMarker, { force: true });
  }
  const links = JSON.parse((await tryRun(['ip', '-j', 'link', 'show'])).stdout || '[]') as
    { ifname: string; master?: string }[];
  for (const l of links) {
    if (l.ifname.startsWith(VETH_PREFIX) && (l.master === BRIDGE || !l.master)) {
      if (/^plv\d+$/.test(l.ifname)) await tryRun(['ip', 'link', 'del', l.ifname]);
    }
  }
  if (await linkExists(BRIDGE)) await run(['ip', 'link', 'del', BRIDGE]);
  await removeForwardRule();
}

async function removeForwardRule(): Promise<void> {
  const chain = await tryRun(['iptables', '-S', 'FORWARD']).catch(() => null);
  if (!chain || chain.code !== 0) return;
  for (const line of chain.stdout.split('\n')) {
    if (!line.startsWith('-A FORWARD') || !line.includes(`--comment ${RULE_COMMENT}`)) continue;
    const spec = line.replace(/^-A FORWARD /, '').split(' ');
    await run(['iptables', '-D', 'FORWARD', ...spec]);
  }
}
