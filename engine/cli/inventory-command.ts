// `plinth inventory`: the merged inventory as ansible-inventory prints it (--list, --graph,
// --host), so a team can check that plinth reads its inventories as Ansible does. Secrets
// (vault-encrypted vars files, connection passwords) are printed as ********.
import * as path from 'node:path';
import type { Command } from 'commander';
import { loadInventory, loadVarsFolders, type Inventory } from '../load/inventory.js';
import { SECRET_CONNECTION_VARS } from '../connection/open-connection.js';
import { redactor } from '../secrets/redact.js';
import { SECRET_NAME } from '../expr/scope.js';
import { UsageError } from './exit-codes.js';
import { useVaultPassword } from './vault-command.js';
import { addInventoryOption, withProjectDefaults } from './run-command.js';
import { loadProjectConfig } from './project-config.js';

export interface InventoryFlags {
  inventory?: string[];
  list?: boolean;
  graph?: boolean | string;
  host?: string;
  vars?: boolean;
  playbookDir?: string;
  vaultPasswordFile?: string;
}

export function registerInventoryCommand(program: Command): void {
  addInventoryOption(program.command('inventory').description('show the merged inventory as ansible-inventory does: --list (JSON), --graph [group], --host NAME'))
    .option('--list', "every group with its hosts and children, and every host's variables (_meta.hostvars), as JSON")
    .option('--graph [group]', 'the tree of groups and hosts below a group (default: all)')
    .option('--host <name>', 'the variables of one host, as JSON')
    .option('--vars', 'with --graph: show the variables of each host and group')
    .option('--playbook-dir <dir>', 'also read group_vars/ and host_vars/ beside this playbook folder')
    .option('--vault-password-file <file>', 'file whose first line is the vault password')
    .action(async (flags: InventoryFlags) => {
      process.stdout.write(await inventoryCommand(flags));
    });
}

async function inventoryCommand(given: InventoryFlags): Promise<string> {
  const flags = withProjectDefaults(given, await loadProjectConfig());
  const modes = [flags.list, flags.graph, flags.host].filter((m) => m !== undefined && m !== false);
  if (modes.length !== 1) throw new UsageError('plinth inventory: give exactly one of --list, --graph or --host NAME');
  useVaultPassword(flags.vaultPasswordFile);
  const inv = await loadInventory(flags.inventory);
  if (flags.playbookDir) await loadVarsFolders(inv, path.resolve(flags.playbookDir));
  // Secrets by name, as in a run (SECRET_NAME), and the connection passwords.
  const secret = (name: string) => SECRET_NAME.test(name) || SECRET_CONNECTION_VARS.includes(name);
  for (const vars of [...[...inv.hosts.keys()].map((h) => inv.varsOf(h)), ...[...inv.groups.values()].map((g) => g.vars)]) {
    for (const [name, value] of Object.entries(vars)) if (secret(name) && typeof value !== 'object') redactor.add(String(value));
  }
  if (flags.host !== undefined) {
    if (!inv.hosts.has(flags.host)) throw new UsageError(`plinth inventory: no host named '${flags.host}' in ${inv.source}`);
    return json(inv.varsOf(flags.host));
  }
  if (flags.graph !== undefined) {
    const top = typeof flags.graph === 'string' ? flags.graph : 'all';
    if (!inv.groups.has(top)) throw new UsageError(`plinth inventory: --graph needs a group name; there is no group '${top}'`);
    return redactor.redact(graph(inv, top, 0, !!flags.vars).join('\n') + '\n');
  }
  return json(listing(inv));
}

/** ansible-inventory --list: groups (hosts they hold directly, child groups), empty ones left out, then _meta.hostvars. */
export function listing(inv: Inventory): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  const visit = (name: string) => {
    const g = inv.groups.get(name)!;
    const entry: Record<string, unknown> = {};
    if (name !== 'all' && g.hosts.length) entry.hosts = [...g.hosts];
    if (g.children.length) entry.children = [...g.children];
    if (Object.keys(entry).length) out[name] = entry;
    for (const c of g.children) {
      if (seen.has(c)) continue;
      seen.add(c);
      visit(c);
    }
  };
  visit('all');
  const hostvars: Record<string, unknown> = {};
  for (const host of inv.hosts.keys()) {
    const vars = inv.varsOf(host);
    if (Object.keys(vars).length) hostvars[host] = vars;
  }
  out._meta = { hostvars };
  return out;
}

function graph(inv: Inventory, group: string, depth: number, showVars: boolean): string[] {
  const line = (text: string, d: number) => (d ? `${'  |'.repeat(d)}--${text}` : text);
  const varLines = (vars: Record<string, unknown>, d: number) =>
    Object.keys(vars)
      .sort()
      .map((k) => line(`{${k} = ${typeof vars[k] === 'string' ? vars[k] : JSON.stringify(vars[k])}}`, d));
  const g = inv.groups.get(group)!;
  const out = [line(`@${group}:`, depth)];
  for (const child of g.children) out.push(...graph(inv, child, depth + 1, showVars));
  if (group !== 'all') {
    for (const host of g.hosts) {
      out.push(line(host, depth + 1));
      if (showVars) out.push(...varLines(inv.varsOf(host), depth + 2));
    }
  }
  if (showVars) out.push(...varLines(g.vars, depth + 1));
  return out;
}

/** JSON as ansible-inventory writes it: keys sorted, four spaces; secrets redacted. */
function json(value: unknown): string {
  return JSON.stringify(redactor.redactValue(sortKeys(value)), null, 4) + '\n';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
