// The inventory: hosts, groups and their variables, merged from every `-i` source in order.
// A source is a YAML file in Ansible's shape, an INI file in Ansible's grammar, an executable
// script that prints `--list` JSON, a folder of such sources, or a comma-separated host list.
// group_vars/ and host_vars/ beside a source (and beside the playbook) are read as Ansible does.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadYamlFile, parseYaml, readText, revealVaulted, SourceError, whereOf, type Where } from './yaml.js';
import { hostPatternAt } from './host-ranges.js';
import { readYamlInventory } from './inventory-yaml.js';
import { readIniInventory } from './inventory-ini.js';
import { readScriptInventory } from './inventory-script.js';

export interface InventoryGroup {
  name: string;
  /** Hosts listed directly in this group, in the order they were added. */
  hosts: string[];
  children: string[];
  parents: string[];
  /** Variables given in inventory sources (not group_vars/). */
  vars: Record<string, unknown>;
  /** ansible_group_priority: among groups of the same depth, a higher priority is merged later. */
  priority: number;
}

export interface InventoryHost {
  name: string;
  /** Variables given in inventory sources (not host_vars/). */
  vars: Record<string, unknown>;
}

/** group_vars/ and host_vars/ of one folder (beside an inventory source, or the playbook's). */
interface VarsFolder {
  dir: string;
  groups: Map<string, Record<string, unknown>>;
  hosts: Map<string, Record<string, unknown>>;
}

export class Inventory {
  readonly hosts = new Map<string, InventoryHost>();
  readonly groups = new Map<string, InventoryGroup>();
  /** Beside the inventory sources, in -i order; then beside the playbook (higher precedence). */
  private readonly inventoryFolders: VarsFolder[] = [];
  private readonly playbookFolders: VarsFolder[] = [];
  private readonly membersCache = new Map<string, string[]>();

  constructor(readonly source: string) {
    this.group('all');
    this.group('ungrouped');
    this.addChild('all', 'ungrouped');
  }

  group(name: string): InventoryGroup {
    let g = this.groups.get(name);
    if (!g) {
      g = { name, hosts: [], children: [], parents: [], vars: {}, priority: 1 };
      this.groups.set(name, g);
      this.membersCache.clear();
    }
    return g;
  }

  addHost(group: string, name: string, vars: Record<string, unknown> = {}): void {
    if (!this.hosts.has(name)) this.hosts.set(name, { name, vars: {} });
    for (const [k, v] of Object.entries(vars)) this.setHostVar(name, k, v);
    const g = this.group(group);
    if (!g.hosts.includes(name)) g.hosts.push(name);
    this.membersCache.clear();
  }

  setHostVar(host: string, key: string, value: unknown): void {
    this.hosts.get(host)!.vars[key] = value;
  }

  setGroupVar(group: string, key: string, value: unknown): void {
    const g = this.group(group);
    // As in Ansible, the priority is a property of the group, not a variable.
    if (key === 'ansible_group_priority') g.priority = Number(value);
    else g.vars[key] = value;
  }

  /** Makes `child` a member group of `parent`; a loop of groups is an error at `where`. */
  addChild(parent: string, child: string, where?: Where): void {
    if (parent === child || this.descendantsOf(child).has(parent)) {
      throw new SourceError(`inventory: adding group '${child}' as a child of '${parent}' makes a loop of groups`, where);
    }
    const p = this.group(parent);
    const c = this.group(child);
    if (!p.children.includes(child)) p.children.push(child);
    if (!c.parents.includes(parent)) c.parents.push(parent);
    this.membersCache.clear();
  }

  private descendantsOf(group: string, out = new Set<string>()): Set<string> {
    for (const c of this.groups.get(group)?.children ?? []) {
      if (!out.has(c)) {
        out.add(c);
        this.descendantsOf(c, out);
      }
    }
    return out;
  }

  /**
   * Ansible's rules once every source is read: a group nobody contains is a child of `all`;
   * a host in no group is in `ungrouped`, and a host in another group is not.
   */
  reconcile(): void {
    for (const g of this.groups.values()) if (g.name !== 'all' && g.parents.length === 0) this.addChild('all', g.name);
    const ungrouped = this.groups.get('ungrouped')!;
    for (const host of this.hosts.keys()) {
      const elsewhere = [...this.groups.values()].some((g) => g.name !== 'all' && g.name !== 'ungrouped' && g.hosts.includes(host));
      if (elsewhere) ungrouped.hosts = ungrouped.hosts.filter((h) => h !== host);
      else if (!ungrouped.hosts.includes(host)) ungrouped.hosts.push(host);
    }
    this.membersCache.clear();
  }

  /**
   * All hosts of a group, its children's included, in Ansible's order (what `groups['pg'][0]`
   * and `pg[0]` pick): the group's own hosts, then its child groups' level by level, each group's
   * hosts in the order they were added.
   */
  hostsOf(group: string): string[] {
    const cached = this.membersCache.get(group);
    if (cached) return cached;
    if (!this.groups.has(group)) return [];
    const members = new Set<string>();
    const seen = new Set<string>([group]);
    let level = [group];
    while (level.length) {
      for (const g of level) for (const h of this.groups.get(g)!.hosts) members.add(h);
      const next: string[] = [];
      for (const c of level.flatMap((g) => this.groups.get(g)!.children)) {
        if (seen.has(c)) continue;
        seen.add(c);
        next.push(c);
      }
      level = next;
    }
    // Every host is in `all`, even one added to no group yet.
    if (group === 'all') for (const h of this.hosts.keys()) members.add(h);
    const list = [...members];
    this.membersCache.set(group, list);
    return list;
  }

  /** The groups a host belongs to, directly or through children, `all` excluded. */
  groupsOf(host: string): string[] {
    return [...this.groups.keys()].filter((g) => g !== 'all' && this.hostsOf(g).includes(host));
  }

  /** The groups of a host, `all` excluded, in Ansible's merge order: by depth, then priority, then name. */
  sortedGroupsOf(host: string): InventoryGroup[] {
    const depth = (name: string, seen = new Set<string>()): number => {
      const g = this.groups.get(name)!;
      if (name === 'all') return 0;
      if (g.parents.length === 0 || seen.has(name)) return 1;
      seen.add(name);
      return 1 + Math.max(...g.parents.map((p) => depth(p, new Set(seen))));
    };
    const groups = this.groupsOf(host).map((n) => this.groups.get(n)!);
    const depths = new Map(groups.map((g) => [g.name, depth(g.name)]));
    return groups.sort((a, b) => depths.get(a.name)! - depths.get(b.name)! || a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Variables of one host, in Ansible's precedence (lowest first): `all` in the sources, other
   * groups in the sources, group_vars/all beside the sources then beside the playbook, the
   * host's other group_vars likewise, the host's variables in the sources, host_vars/ likewise.
   */
  varsOf(host: string): Record<string, unknown> {
    const groups = this.sortedGroupsOf(host);
    const folders = [...this.inventoryFolders, ...this.playbookFolders];
    const merged: Record<string, unknown> = { ...this.groups.get('all')!.vars };
    for (const g of groups) Object.assign(merged, g.vars);
    for (const f of folders) Object.assign(merged, f.groups.get('all'));
    for (const f of folders) for (const g of groups) Object.assign(merged, f.groups.get(g.name));
    Object.assign(merged, this.hosts.get(host)?.vars);
    for (const f of folders) Object.assign(merged, f.hosts.get(host));
    return merged;
  }

  /** Reads group_vars/ and host_vars/ in `dir` for every group and host known now. */
  async readVarsFolder(dir: string, beside: 'inventory' | 'playbook'): Promise<void> {
    const list = beside === 'inventory' ? this.inventoryFolders : this.playbookFolders;
    if ([...this.inventoryFolders, ...this.playbookFolders].some((f) => f.dir === dir)) return;
    const folder: VarsFolder = { dir, groups: new Map(), hosts: new Map() };
    for (const g of this.groups.keys()) {
      const vars = await readVarsFor(path.join(dir, 'group_vars'), g);
      if (vars) folder.groups.set(g, vars);
    }
    for (const h of this.hosts.keys()) {
      const vars = await readVarsFor(path.join(dir, 'host_vars'), h);
      if (vars) folder.hosts.set(h, vars);
    }
    list.push(folder);
    this.membersCache.clear();
  }
}

/** Loads and merges the sources in order; none means this machine only (`localhost`). */
export async function loadInventory(sources: string | string[] | undefined): Promise<Inventory> {
  const list = (Array.isArray(sources) ? sources : sources ? [sources] : []).filter((s) => s !== '');
  if (list.length === 0) return implicitLocalhost();
  const inv = new Inventory(list.join(' '));
  const folders: string[] = [];
  for (const source of list) {
    const folder = await addSource(inv, source);
    if (folder) folders.push(folder);
  }
  inv.reconcile();
  for (const dir of folders) await inv.readVarsFolder(dir, 'inventory');
  return inv;
}

/** group_vars/ and host_vars/ beside the playbook. */
export async function loadVarsFolders(inv: Inventory, dir: string): Promise<void> {
  await inv.readVarsFolder(path.resolve(dir), 'playbook');
}

/** Reads one source into the inventory; returns the folder whose group_vars/ and host_vars/ belong to it. */
async function addSource(inv: Inventory, source: string): Promise<string | undefined> {
  const st = await fs.stat(source).catch(() => null);
  if (!st && source.includes(',')) {
    addHostList(inv, source);
    return undefined;
  }
  if (!st) throw new SourceError(`inventory source ${source} does not exist (a host list needs a comma: "${source},")`);
  if (st.isDirectory()) {
    await addFolder(inv, source);
    return path.resolve(source);
  }
  await addFile(inv, source, st.mode);
  return path.dirname(path.resolve(source));
}

/** Names in an inventory folder that Ansible skips (INVENTORY_IGNORE_EXTS and the vars folders). */
const IGNORED_IN_FOLDER = /^\.|^host_vars$|^group_vars$|^vars_plugins$|(\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.ini|\.cfg|\.retry)$/;

async function addFolder(inv: Inventory, dir: string): Promise<void> {
  const names = (await fs.readdir(dir)).filter((n) => !IGNORED_IN_FOLDER.test(n)).sort();
  for (const name of names) {
    const full = path.join(dir, name);
    const st = await fs.stat(full);
    if (st.isDirectory()) await addFolder(inv, full);
    else await addFile(inv, full, st.mode);
  }
}

async function addFile(inv: Inventory, file: string, mode: number): Promise<void> {
  const text = await readText(file);
  if (text.startsWith('#!')) {
    if (mode & 0o111) return readScriptInventory(inv, file);
    throw new SourceError(`inventory ${file} starts with #! but is not executable: to use it as an inventory script, chmod +x it`);
  }
  const ext = path.extname(file);
  if (['.yml', '.yaml', '.json'].includes(ext)) return readYamlInventory(inv, file, await revealVaulted(parseYaml(text, file), file));
  if (ext === '') {
    // As Ansible: a file without extension is YAML when it reads as a YAML mapping, else INI.
    const data = tryYaml(text, file);
    if (data && typeof data === 'object' && !Array.isArray(data)) return readYamlInventory(inv, file, await revealVaulted(data, file));
  }
  readIniInventory(inv, file, text);
}

function tryYaml(text: string, file: string): unknown {
  try {
    return parseYaml(text, file);
  } catch {
    return undefined;
  }
}

/** "web1,web2:2222,db[1:3]," */
function addHostList(inv: Inventory, list: string): void {
  for (const item of list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const { hosts, port } = hostPatternAt(item, { file: '-i', line: 1, col: 1 });
    for (const h of hosts) inv.addHost('ungrouped', h, port === undefined ? {} : { ansible_port: port });
  }
}

async function readVarsFor(dir: string, name: string): Promise<Record<string, unknown> | undefined> {
  let out: Record<string, unknown> | undefined;
  for (const file of [name, `${name}.yml`, `${name}.yaml`, `${name}.json`]) {
    const p = path.join(dir, file);
    const st = await fs.stat(p).catch(() => null);
    if (!st) continue;
    const files = st.isDirectory() ? await varsFilesIn(p) : [p];
    for (const f of files) out = Object.assign(out ?? {}, await readVarsFile(f));
  }
  return out;
}

/** Every vars file below a group_vars/NAME/ folder, in name order, as Ansible reads them. */
async function varsFilesIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.')) continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await varsFilesIn(p)));
    else if (/\.(ya?ml|json)$/.test(entry.name) || !path.extname(entry.name)) out.push(p);
  }
  return out;
}

/** A vars file, plain or encrypted with `plinth vault`; every value of an encrypted file is a secret. */
export async function readVarsFile(file: string): Promise<Record<string, unknown>> {
  const data = await loadYamlFile(file);
  if (data === null) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new SourceError('a vars file must be a mapping of variable names to values', whereOf(data) ?? { file, line: 1, col: 1 });
  }
  return data as Record<string, unknown>;
}

function implicitLocalhost(): Inventory {
  const inv = new Inventory('(implicit localhost)');
  inv.addHost('ungrouped', 'localhost', { ansible_connection: 'local' });
  return inv;
}
