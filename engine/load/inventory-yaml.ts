// YAML inventories in Ansible's shape: top-level groups, each with `hosts`, `children`, `vars`.
// Host keys may hold ranges and a port (`web[01:10]:2222`).
import type { Inventory } from './inventory.js';
import { SourceError, whereAtPath, whereOf } from './yaml.js';
import { validateAgainst } from '../schema-validation.js';
import { inventorySchema } from './user-file-schemas.js';
import { hostPatternAt } from './host-ranges.js';

interface GroupNode {
  hosts?: Record<string, Record<string, unknown> | null> | null;
  children?: Record<string, GroupNode | null> | null;
  vars?: Record<string, unknown> | null;
}

export function readYamlInventory(inv: Inventory, file: string, data: unknown): void {
  if (data === null) return;
  if (data && typeof data === 'object' && 'plugin' in data) {
    throw new SourceError('inventory: inventory plugin files (a `plugin:` key) are not supported; write the hosts in YAML, INI or a script', whereOf(data, 'plugin'));
  }
  const problems = validateAgainst(inventorySchema, data);
  if (problems.length) {
    const p = problems[0];
    throw new SourceError(`inventory: ${p.path.length ? `${p.path.join('.')}: ` : ''}${p.message}`, whereAtPath(data, p.path) ?? { file, line: 1, col: 1 });
  }
  for (const [name, group] of Object.entries(data as Record<string, GroupNode | null>)) readGroup(inv, file, name, group);
}

function readGroup(inv: Inventory, file: string, name: string, node: GroupNode | null): void {
  inv.group(name);
  // Sections in the order written, as Ansible reads them: it decides the order of the hosts.
  for (const section of Object.keys(node ?? {}) as (keyof GroupNode)[]) {
    if (section === 'vars') for (const [key, value] of Object.entries(node!.vars ?? {})) inv.setGroupVar(name, key, value);
    if (section === 'children') {
      for (const [child, childNode] of Object.entries(node!.children ?? {})) {
        readGroup(inv, file, child, childNode);
        inv.addChild(name, child, whereOf(node!.children, child));
      }
    }
    if (section === 'hosts') {
      for (const [pattern, vars] of Object.entries(node!.hosts ?? {})) {
        const { hosts, port } = hostPatternAt(pattern, whereOf(node!.hosts, pattern) ?? { file, line: 1, col: 1 });
        for (const host of hosts) {
          inv.addHost(name, host, port === undefined ? {} : { ansible_port: port });
          for (const [key, value] of Object.entries(vars ?? {})) inv.setHostVar(host, key, value);
        }
      }
    }
  }
}
