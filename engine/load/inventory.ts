// Inventories in Ansible's YAML shape (all / children / hosts / vars), with group_vars/
// and host_vars/ folders beside them, or a comma-separated host list ("web1,web2,").
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadYamlFile, parseYaml, readText, SourceError, whereOf, whereAtPath } from './yaml.js';
import { decryptVault, isVaultText, vaultPassword } from '../secrets/vault.js';
import { redactor } from '../secrets/redact.js';
import { validateAgainst } from './validate.js';
import { inventorySchema } from './schemas.js';

export interface InventoryGroup {
  name: string;
  /** Hosts listed directly in this group. */
  hosts: string[];
  children: string[];
  parents: string[];
  vars: Record<string, unknown>;
}

export interface InventoryHost {
  name: string;
  /** Variables from the inventory and host_vars, before group variables are merged. */
  vars: Record<string, unknown>;
}

export class Inventory {
  readonly hosts = new Map<string, InventoryHost>();
  readonly groups = new Map<string, InventoryGroup>();

  constructor(readonly source: string) {
    this.group('all');
    this.group('ungrouped');
  }

  group(name: string): InventoryGroup {
    let g = this.groups.get(name);
    if (!g) {
      g = { name, hosts: [], children: [], parents: [], vars: {} };
      this.groups.set(name, g);
    }
    return g;
  }

  addHost(group: string, name: string, vars: Record<string, unknown>): void {
    const existing = this.hosts.get(name);
    if (existing) Object.assign(existing.vars, vars);
    else this.hosts.set(name, { name, vars: { ...vars } });
    const g = this.group(group);
    if (!g.hosts.includes(name)) g.hosts.push(name);
  }

  addChild(parent: string, child: string): void {
    const p = this.group(parent);
    const c = this.group(child);
    if (!p.children.includes(child)) p.children.push(child);
    if (!c.parents.includes(parent)) c.parents.push(parent);
  }

  /** All hosts of a group, its children's included, in inventory order. */
  hostsOf(group: string, seen = new Set<string>()): string[] {
    const g = this.groups.get(group);
    if (!g || seen.has(group)) return [];
    seen.add(group);
    if (group === 'all') return [...this.hosts.keys()];
    const out = new Set(g.hosts);
    for (const c of g.children) for (const h of this.hostsOf(c, seen)) out.add(h);
    return [...this.hosts.keys()].filter((h) => out.has(h));
  }

  /** The groups a host belongs to, directly or through children, `all` excluded. */
  groupsOf(host: string): string[] {
    return [...this.groups.keys()].filter((g) => g !== 'all' && this.hostsOf(g).includes(host));
  }

  /**
   * The groups of a host ordered for variable merging: parents before children, then by name,
   * as Ansible does; `all` first.
   */
  groupsForVars(host: string): InventoryGroup[] {
    const depth = (name: string, seen = new Set<string>()): number => {
      const g = this.groups.get(name);
      if (!g || g.parents.length === 0 || seen.has(name)) return name === 'all' ? 0 : 1;
      seen.add(name);
      return 1 + Math.max(...g.parents.map((p) => depth(p, seen)));
    };
    const names = this.groupsOf(host).filter((g) => g !== 'ungrouped' || this.groups.get('ungrouped')!.hosts.includes(host));
    names.sort((a, b) => depth(a) - depth(b) || a.localeCompare(b));
    return [this.groups.get('all')!, ...names.map((n) => this.groups.get(n)!)];
  }

  /** Variables of one host from the inventory: all < groups (parents first) < host. */
  varsOf(host: string): Record<string, unknown> {
    const merged: Record<string, unknown> = {};
    for (const g of this.groupsForVars(host)) Object.assign(merged, g.vars);
    Object.assign(merged, this.hosts.get(host)?.vars);
    return merged;
  }
}

export async function loadInventory(source: string | undefined): Promise<Inventory> {
  if (!source) return implicitLocalhost();
  if (source.includes(',') && !(await exists(source))) return inventoryFromList(source);
  const data = await loadYamlFile(source);
  const inv = new Inventory(source);
  if (data === null) return inv;
  const problems = validateAgainst(inventorySchema, data);
  if (problems.length) {
    const p = problems[0];
    throw new SourceError(`inventory: ${p.path.length ? `${p.path.join('.')}: ` : ''}${p.message}`, whereAtPath(data, p.path));
  }
  for (const [name, group] of Object.entries(data as Record<string, unknown>)) {
    readGroup(inv, name, group as GroupNode | null);
    if (name !== 'all') inv.addChild('all', name);
  }
  for (const [name] of inv.hosts) if (inv.groupsOf(name).length === 0) inv.addHost('ungrouped', name, {});
  if (!inv.groups.get('all')!.children.includes('ungrouped')) inv.addChild('all', 'ungrouped');
  await loadVarsFolders(inv, path.dirname(source));
  return inv;
}

/** group_vars/ and host_vars/ beside an inventory or a playbook: NAME.yml, NAME.yaml, NAME, or NAME/*.yml. */
export async function loadVarsFolders(inv: Inventory, dir: string): Promise<void> {
  for (const g of inv.groups.values()) Object.assign(g.vars, await readVarsFor(path.join(dir, 'group_vars'), g.name));
  for (const h of inv.hosts.values()) Object.assign(h.vars, await readVarsFor(path.join(dir, 'host_vars'), h.name));
}

async function readVarsFor(dir: string, name: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const file of [`${name}.yml`, `${name}.yaml`, name]) {
    const p = path.join(dir, file);
    const st = await fs.stat(p).catch(() => null);
    if (!st) continue;
    const files = st.isDirectory()
      ? (await fs.readdir(p)).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(p, f))
      : [p];
    for (const f of files) Object.assign(out, await readVarsFile(f));
  }
  return out;
}

/** A vars file, plain or encrypted with `plinth vault`; every value of an encrypted file is a secret. */
export async function readVarsFile(file: string): Promise<Record<string, unknown>> {
  const text = await readText(file);
  const encrypted = isVaultText(text);
  const data = encrypted ? parseYaml(decryptVault(text, await vaultPassword(file), file), file) : parseYaml(text, file);
  if (encrypted) markAllSecret(data);
  if (data === null) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new SourceError('a vars file must be a mapping of variable names to values', whereOf(data) ?? { file, line: 1, col: 1 });
  }
  return data as Record<string, unknown>;
}

interface GroupNode {
  hosts?: Record<string, Record<string, unknown> | null> | null;
  children?: Record<string, GroupNode | null> | null;
  vars?: Record<string, unknown> | null;
}

function readGroup(inv: Inventory, name: string, node: GroupNode | null): void {
  const g = inv.group(name);
  if (!node) return;
  Object.assign(g.vars, node.vars ?? {});
  for (const [host, vars] of Object.entries(node.hosts ?? {})) inv.addHost(name, host, vars ?? {});
  for (const [child, childNode] of Object.entries(node.children ?? {})) {
    inv.addChild(name, child);
    readGroup(inv, child, childNode);
  }
}

function implicitLocalhost(): Inventory {
  const inv = new Inventory('(implicit localhost)');
  inv.addHost('ungrouped', 'localhost', { ansible_connection: 'local' });
  inv.addChild('all', 'ungrouped');
  return inv;
}

function inventoryFromList(list: string): Inventory {
  const inv = new Inventory(list);
  for (const name of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    inv.addHost('ungrouped', name, name === 'localhost' ? { ansible_connection: 'local' } : {});
  }
  inv.addChild('all', 'ungrouped');
  return inv;
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(() => true, () => false);
}

function markAllSecret(value: unknown): void {
  if (typeof value === 'string' || typeof value === 'number') redactor.add(String(value));
  else if (value && typeof value === 'object') for (const v of Object.values(value)) markAllSecret(v);
}
