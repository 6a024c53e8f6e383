// Executable inventories, as Ansible's script plugin runs them: `SCRIPT --list` prints JSON
// groups (a list of hosts, or {hosts, vars, children}) and `_meta.hostvars`; without `_meta`,
// `SCRIPT --host NAME` is asked for each host's variables.
import { execFile } from 'node:child_process';
import type { Inventory } from './inventory.js';
import { SourceError } from './yaml.js';

/** A script that hangs is a bug in the script: give up after this long rather than wait forever. */
const SCRIPT_TIMEOUT_MS = 5 * 60_000;

export async function readScriptInventory(inv: Inventory, file: string): Promise<void> {
  const listed = await runScript(file, ['--list']);
  const data = parseJson(listed, file, '--list');
  if (!isObject(data)) throw new SourceError(`inventory script ${file} --list: expected a JSON object of groups, got ${kind(data)}`);
  const hosts = new Set<string>();
  let hostvars: Record<string, unknown> | undefined;
  for (const [group, gdata] of Object.entries(data)) {
    if (group === '_meta') {
      if (isObject(gdata) && 'hostvars' in gdata) hostvars = isObject(gdata.hostvars) ? gdata.hostvars : {};
      continue;
    }
    readGroup(inv, file, group, gdata, hosts);
  }
  for (const host of hosts) {
    const vars = hostvars ? (hostvars[host] ?? {}) : (parseJson(await runScript(file, ['--host', host]), file, `--host ${host}`) ?? {});
    if (!isObject(vars)) throw new SourceError(`inventory script ${file}: the variables of host ${host} must be a JSON object, got ${kind(vars)}`);
    for (const [k, v] of Object.entries(vars)) inv.setHostVar(host, k, v);
  }
}

function readGroup(inv: Inventory, file: string, group: string, raw: unknown, hosts: Set<string>): void {
  inv.group(group);
  let data: Record<string, unknown>;
  if (!isObject(raw)) data = { hosts: raw };
  // Ansible's oldest script format: a group of that name holding one host and its variables.
  else if (!('hosts' in raw || 'vars' in raw || 'children' in raw)) data = { hosts: [group], vars: raw };
  else data = raw;
  if ('hosts' in data) {
    if (!Array.isArray(data.hosts)) throw new SourceError(`inventory script ${file}: group ${group}: hosts must be a list, got ${kind(data.hosts)}`);
    for (const h of data.hosts) {
      hosts.add(String(h));
      inv.addHost(group, String(h));
    }
  }
  if ('vars' in data) {
    if (!isObject(data.vars)) throw new SourceError(`inventory script ${file}: group ${group}: vars must be an object, got ${kind(data.vars)}`);
    for (const [k, v] of Object.entries(data.vars)) inv.setGroupVar(group, k, v);
  }
  if ('children' in data) {
    if (!Array.isArray(data.children)) throw new SourceError(`inventory script ${file}: group ${group}: children must be a list, got ${kind(data.children)}`);
    for (const child of data.children) inv.addChild(group, String(child));
  }
}

function runScript(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: SCRIPT_TIMEOUT_MS, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const why = err.killed ? `did not finish within ${SCRIPT_TIMEOUT_MS / 1000}s` : typeof err.code === 'number' ? `exited with status ${err.code}` : err.message;
      reject(new SourceError(`inventory script ${file} ${args.join(' ')} ${why}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
  });
}

function parseJson(text: string, file: string, args: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SourceError(`inventory script ${file} ${args} printed something that is not JSON: ${(e as Error).message}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v;
}
