// Which hosts a lab has, and the inventory `up` writes for them.
//
// Three ways to say which hosts:
//   - the default: the blog's PostgreSQL lab, pg-primary, pg-replica-1, pg-replica-2 and
//     pgpool, in the groups primary, replicas and pgpool;
//   - `--hosts N`: N plain hosts lab-1 … lab-N, in no group but `all`;
//   - `--inventory FILE`: the hosts of an Ansible-shaped YAML inventory, in its groups. The
//     inventory `up` writes is then that file with each host's connection variables set to
//     its lab host, so its other variables and its groups are kept as they are.
import { promises as fs } from 'node:fs';
import * as YAML from 'yaml';
import { LabError } from './lab-error.js';
import { FIRST_HOST_OCTET, type LabNetwork } from './network.js';

export interface LabHost {
  name: string;
  address: string;
  /** Groups the host belongs to, directly or through a group's children. */
  groups: string[];
}

/** A requested host: its address is chosen by `up` unless the inventory gives one in the lab subnet. */
export interface HostRequest {
  name: string;
  groups: string[];
  address?: string;
}

export interface LabSpec {
  hosts: HostRequest[];
  /** The user's inventory document, when the hosts came from one. */
  inventory?: Record<string, unknown>;
}

type InventoryGroup = { hosts?: Record<string, unknown>; children?: Record<string, InventoryGroup | null>; vars?: unknown };

const NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
const MAX_HOSTS = 254 - FIRST_HOST_OCTET + 1;

function checkHostName(name: string): void {
  if (!NAME.test(name)) {
    throw new LabError(`lab host name "${name}" is not usable: use 1–40 lowercase letters, digits and dashes (it becomes a hostname)`);
  }
}

export function blogLab(): LabSpec {
  return {
    hosts: [
      { name: 'pg-primary', groups: ['primary'] },
      { name: 'pg-replica-1', groups: ['replicas'] },
      { name: 'pg-replica-2', groups: ['replicas'] },
      { name: 'pgpool', groups: ['pgpool'] },
    ],
  };
}

export function numberedLab(count: number): LabSpec {
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) {
    throw new LabError(`--hosts takes a number from 1 to ${MAX_HOSTS}, not ${count}`);
  }
  return { hosts: Array.from({ length: count }, (_, i) => ({ name: `lab-${i + 1}`, groups: [] })) };
}

/** Reads the hosts and groups of an Ansible-shaped YAML inventory. */
export async function labFromInventory(file: string): Promise<LabSpec> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new LabError(`cannot read the inventory ${file}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new LabError(`${file} is not valid YAML: ${(e as Error).message}`);
  }
  if (!isMapping(doc)) throw new LabError(`${file}: an inventory is a mapping of groups (e.g. \`all:\`)`);
  const hosts = new Map<string, HostRequest>();
  for (const [group, body] of Object.entries(doc)) collectGroup(group, body, [], hosts, file);
  if (hosts.size === 0) throw new LabError(`${file} lists no hosts`);
  if (hosts.size > MAX_HOSTS) throw new LabError(`${file} lists ${hosts.size} hosts; the lab holds at most ${MAX_HOSTS}`);
  return { hosts: [...hosts.values()], inventory: doc };
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function collectGroup(group: string, body: unknown, parents: string[], out: Map<string, HostRequest>, file: string): void {
  if (body === null || body === undefined) return;
  if (!isMapping(body)) throw new LabError(`${file}: group "${group}" must be a mapping with hosts, children or vars`);
  const g = body as InventoryGroup;
  const groups = group === 'all' ? parents : [...parents, group];
  for (const [name, vars] of Object.entries(g.hosts ?? {})) {
    checkHostName(name);
    const host = out.get(name) ?? { name, groups: [] };
    for (const gr of groups) if (!host.groups.includes(gr)) host.groups.push(gr);
    const address = isMapping(vars) ? vars.ansible_host : undefined;
    if (typeof address === 'string' && /^198\.18\.0\.\d+$/.test(address)) host.address = address;
    out.set(name, host);
  }
  for (const [child, childBody] of Object.entries(g.children ?? {})) collectGroup(child, childBody, groups, out, file);
}

export interface ConnectionVars {
  ansible_host: string;
  ansible_user: 'root';
  ansible_ssh_private_key_file: string;
  plinth_known_hosts_file: string;
  /** The lab's subnet, for roles that let clients of the lab in (pgpool_client_networks). */
  lab_network: string;
}

function connectionVars(net: LabNetwork, host: LabHost, key: string, knownHosts: string): ConnectionVars {
  return {
    ansible_host: host.address,
    ansible_user: 'root',
    ansible_ssh_private_key_file: key,
    plinth_known_hosts_file: knownHosts,
    lab_network: net.subnet,
  };
}

/** The inventory document for the running lab. */
export function inventoryDocument(net: LabNetwork, hosts: LabHost[], key: string, knownHosts: string, source?: Record<string, unknown>): Record<string, unknown> {
  const vars = new Map(hosts.map((h) => [h.name, connectionVars(net, h, key, knownHosts)]));
  if (source) return withConnectionVars(structuredClone(source), vars, hosts);
  const groups: Record<string, { hosts: Record<string, Record<string, never>> }> = {};
  for (const h of hosts) {
    for (const g of h.groups) (groups[g] ??= { hosts: {} }).hosts[h.name] = {};
  }
  const all: Record<string, unknown> = { hosts: Object.fromEntries(vars) };
  if (Object.keys(groups).length > 0) all.children = groups;
  return { all };
}

/** Sets the connection variables on every occurrence of a lab host in the user's inventory. */
function withConnectionVars(doc: Record<string, unknown>, vars: Map<string, ConnectionVars>, hosts: LabHost[]): Record<string, unknown> {
  const visit = (group: unknown) => {
    if (!isMapping(group)) return;
    if (isMapping(group.hosts)) {
      for (const name of Object.keys(group.hosts)) {
        const own = group.hosts[name];
        group.hosts[name] = { ...(isMapping(own) ? own : {}), ...vars.get(name) };
      }
    }
    if (isMapping(group.children)) Object.values(group.children).forEach(visit);
  };
  Object.values(doc).forEach(visit);
  // Hosts added by an earlier `up` but absent from this document still belong to the lab.
  const listed = new Set<string>();
  const list = (group: unknown) => {
    if (!isMapping(group)) return;
    if (isMapping(group.hosts)) Object.keys(group.hosts).forEach((n) => listed.add(n));
    if (isMapping(group.children)) Object.values(group.children).forEach(list);
  };
  Object.values(doc).forEach(list);
  const extra = hosts.filter((h) => !listed.has(h.name));
  if (extra.length > 0) {
    const all = (isMapping(doc.all) ? doc.all : (doc.all = {})) as Record<string, unknown>;
    const allHosts = (isMapping(all.hosts) ? all.hosts : (all.hosts = {})) as Record<string, unknown>;
    for (const h of extra) allHosts[h.name] = vars.get(h.name);
  }
  return doc;
}

export function inventoryText(doc: Record<string, unknown>): string {
  const header = '# Written by `plinth lab up`: the lab hosts, reached over ssh as root with the lab key,\n' + '# host keys checked against plinth_known_hosts_file. Rewritten at every `up`.\n';
  return header + YAML.stringify(doc);
}

/** Gives each requested host an address: the one it had, the one its inventory asks for, or the lowest free one. */
export function assignAddresses(net: LabNetwork, requests: HostRequest[], existing: LabHost[]): LabHost[] {
  const result = new Map(existing.map((h) => [h.name, h]));
  const taken = new Set(existing.map((h) => h.address));
  const pending: HostRequest[] = [];
  for (const r of requests) {
    const had = result.get(r.name);
    if (had) {
      for (const g of r.groups) if (!had.groups.includes(g)) had.groups.push(g);
      continue;
    }
    if (r.address && net.inSubnet(r.address) && !taken.has(r.address) && Number(r.address.split('.')[3]) >= FIRST_HOST_OCTET && Number(r.address.split('.')[3]) <= 254) {
      taken.add(r.address);
      result.set(r.name, { name: r.name, address: r.address, groups: [...r.groups] });
    } else {
      pending.push(r);
    }
  }
  let octet = FIRST_HOST_OCTET;
  for (const r of pending) {
    while (taken.has(net.address(octet))) octet++;
    if (octet > 254) throw new LabError(`no free address left in ${net.subnet} for ${r.name}`);
    const address = net.address(octet);
    taken.add(address);
    result.set(r.name, { name: r.name, address, groups: [...r.groups] });
  }
  return [...result.values()];
}
