// Shared by the lab tests that converge the blog's cluster (test/lab/cluster.test.ts, plan.test.ts):
// a fresh lab held under the suite lock, secrets files with known random values, plinth runs whose
// every output is kept and searched for those values, and SQL on the hosts and through pgpool.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { expect } from 'vitest';
import { quoteArg } from '../../engine/connection/shell-quote.js';
import { acquireLock, type Release } from '../../lab/lock.js';
import { down, execOnHost, status, up } from '../../lab/lab.js';
import { DEFAULT_LAB, StateDir } from '../../lab/state-dir.js';
import { plinth, type CliResult } from './cli.js';

/** The suite's own lab (vitest.config.ts names it "test"): a lab the user brought up is never touched. */
export const dirs = new StateDir();
if (dirs.name === DEFAULT_LAB) {
  throw new Error("the lab tests never run on the default lab (the user's): set PLINTH_LAB_NAME, as vitest.config.ts does");
}
export const log = (line: string) => process.stderr.write(`  lab: ${line}\n`);

export const PRIMARY = 'pg-primary';
export const REPLICAS = ['pg-replica-1', 'pg-replica-2'];
export const PGPOOL = 'pgpool';
export const SITE = 'playbooks/site.yml';

/** Lab suites that converge a cluster take minutes each; they wait their turn this long. */
export const LOCK_WAIT_MS = 40 * 60_000;
export const HOOK_TIMEOUT_MS = LOCK_WAIT_MS + 5 * 60_000;

export interface Secrets {
  replicator_password: string;
  pgpool_key: string;
  app_password: string;
}

/**
 * A random value with characters that quoting must get right (space, quotes, %, +, /, &) and that
 * make its URL-encoded form differ from the value itself.
 */
export function randomSecret(label: string): string {
  return `${label}-${randomBytes(12).toString('base64url')} q'%2F+/&`;
}

export function newSecrets(): Secrets {
  return { replicator_password: randomSecret('rep'), pgpool_key: randomSecret('key'), app_password: randomSecret('app') };
}

/** The ways a secret could leak into output: as is, JSON-escaped, base64 (both alphabets), URL-encoded. */
export function secretForms(value: string): string[] {
  const b64 = Buffer.from(value).toString('base64');
  return [
    ...new Set([
      value,
      JSON.stringify(value).slice(1, -1),
      b64,
      b64.replace(/=+$/, ''),
      Buffer.from(value).toString('base64url'),
      encodeURIComponent(value),
      encodeURI(value),
      new URLSearchParams({ v: value }).toString().slice(2),
    ]),
  ];
}

export interface RunResult extends CliResult {
  label: string;
  /** The parsed --json lines of stdout (empty when the command printed none). */
  events: Record<string, any>[];
  results: Record<string, any>[];
  recap?: Record<string, Record<string, number>>;
}

/** A fresh lab for one suite: taken down and brought up again, so its hosts are bare. */
export class LabSession {
  /** Every text a run printed or a command wrote, searched for secrets. */
  readonly outputs: { label: string; text: string }[] = [];
  readonly secretValues = new Set<string>();

  private constructor(
    readonly tmp: string,
    readonly inventory: string,
    private readonly release: Release,
    private readonly labWasUp: boolean,
  ) {}

  static async open(name: string): Promise<LabSession> {
    const release = await acquireLock(dirs.suiteLock, { waitMs: LOCK_WAIT_MS, what: 'lab test suite' });
    try {
      const labWasUp = (await status()).hosts.some((h) => h.running);
      const tmp = await fs.mkdtemp(path.join(os.tmpdir(), `plinth-${name}-`));
      await fs.chmod(tmp, 0o700);
      const inventory = path.join(tmp, 'inventory.yml');
      const t0 = Date.now();
      await down({ progress: log });
      await up({ progress: log, inventoryPath: inventory });
      log(`fresh lab in ${seconds(t0)} s`);
      return new LabSession(tmp, inventory, release, labWasUp);
    } catch (e) {
      await release();
      throw e;
    }
  }

  /** Takes the lab down; a lab that was up before the suite is brought up again (fresh, default hosts). */
  async close(): Promise<void> {
    try {
      await down({ progress: log });
      if (this.labWasUp) await up({ progress: log });
    } finally {
      await fs.rm(this.tmp, { recursive: true, force: true });
      await this.release();
    }
  }

  /** Writes a vars file (mode 0600) for `-e @file` and remembers its values as secrets. */
  async writeSecrets(file: string, secrets: Secrets): Promise<string> {
    for (const v of Object.values(secrets)) this.secretValues.add(v);
    const p = path.join(this.tmp, file);
    await fs.writeFile(p, YAML.stringify(secrets), { mode: 0o600 });
    return p;
  }

  /** `plinth ...args` with --json; its stdout and stderr are kept and must hold no secret. */
  async plinth(label: string, args: string[]): Promise<RunResult> {
    const t0 = Date.now();
    const r = await plinth([...args, '--json']);
    log(`${label}: exit ${r.code} in ${seconds(t0)} s`);
    this.keep(`${label} stdout`, r.stdout);
    this.keep(`${label} stderr`, r.stderr);
    const events = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, any>);
    const recap = events.find((e) => e.type === 'recap')?.hosts;
    return { ...r, label, events, results: events.filter((e) => e.type === 'result'), recap };
  }

  /** `plinth run` of site.yml (or another playbook) on this lab with the given vars files. */
  run(label: string, varsFiles: string[], extra: string[] = [], inventory = this.inventory): Promise<RunResult> {
    return this.plinth(label, ['run', '-i', inventory, SITE, ...varsFiles.flatMap((f) => ['-e', `@${f}`]), ...extra]);
  }

  /** Keeps a text that plinth produced (a plan file, a report) for the secret search. */
  keep(label: string, text: string): void {
    this.outputs.push({ label, text });
    expect(this.leaks(text), `a secret in ${label}`).toEqual([]);
  }

  /** Which forms of which secret (named by position, never printed) appear in text. */
  leaks(text: string): string[] {
    const found: string[] = [];
    [...this.secretValues].forEach((v, i) => {
      for (const form of secretForms(v)) if (text.includes(form)) found.push(`secret #${i + 1} (${form === v ? 'as is' : 'encoded'})`);
    });
    return found;
  }
}

export function seconds(since: number): number {
  return Math.round((Date.now() - since) / 100) / 10;
}

/** A run that ended well: exit 0, a recap, no failed or unreachable host. */
export function expectSuccess(r: RunResult): void {
  const context = `${r.label} (exit ${r.code}):\n${r.stderr.slice(-4000)}`;
  expect(r.code, context).toBe(0);
  expect(r.recap, context).toBeDefined();
  for (const [host, c] of Object.entries(r.recap!)) {
    expect({ host, failed: c.failed, unreachable: c.unreachable }, context).toEqual({ host, failed: 0, unreachable: 0 });
  }
}

export function changedCount(r: RunResult): number {
  return Object.values(r.recap ?? {}).reduce((n, c) => n + c.changed, 0);
}

/** "host: task" of every result with this status. */
export function withStatus(r: RunResult, ...wanted: string[]): string[] {
  return r.results.filter((e) => wanted.includes(e.status)).map(resultKey);
}

/** One task's result on one host: play, host, task and its file:line (loops report once per task). */
export function resultKey(e: Record<string, any>): string {
  return `${e.host}: ${e.task} [${e.play}${e.handler ? ', handler' : ''}]`;
}

/** Runs a command on a lab host; fails the test when it exits non-zero. */
export async function onHost(host: string, command: string): Promise<string> {
  const r = await execOnHost(host, command);
  if (r.code !== 0) throw new Error(`${host}: \`${command}\` exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Rows of a query run by psql as postgres on a database host (tab-separated columns). */
export async function hostSql(host: string, sql: string, database = 'postgres'): Promise<string[][]> {
  const out = await onHost(host, `sudo -u postgres psql -X -q -A -t -F '\t' -v ON_ERROR_STOP=1 -d ${quoteArg(database)} -c ${quoteArg(sql)}`);
  return rowsOf(out);
}

export interface PsqlResult {
  code: number;
  rows: string[][];
  stderr: string;
}

/** A lab host's address, as the running lab assigned it. */
/**
 * Boots `replica` beside the lab's hosts, as a user adding a replica does (`lab up --inventory`
 * with the new host in `replicas`), and returns the path of the lab inventory that has it.
 */
export async function growLab(tmp: string, replica: string): Promise<string> {
  const userInventory = path.join(tmp, 'inventory-with-new-replica.yml');
  const groups = { primary: [PRIMARY], replicas: [...REPLICAS, replica], pgpool: [PGPOOL] };
  const children = Object.fromEntries(Object.entries(groups).map(([group, hosts]) => [group, { hosts: Object.fromEntries(hosts.map((h) => [h, null])) }]));
  await fs.writeFile(userInventory, YAML.stringify({ all: { children } }));
  const grown = path.join(tmp, 'inventory-grown.yml');
  const grow = await plinth(['lab', 'up', '--inventory', userInventory, '--write-inventory', grown]);
  expect(grow.code, grow.stderr).toBe(0);
  return grown;
}

export async function labAddress(host: string): Promise<string> {
  const found = (await status()).hosts.find((h) => h.name === host);
  if (!found) throw new Error(`the lab ${dirs.name} has no host ${host}`);
  return found.address;
}

/** psql on this machine through pgpool (or any address), password in the environment only. */
export async function psqlAt(opts: { host?: string; port?: number; user?: string; database?: string; password: string; sql: string }): Promise<PsqlResult> {
  const argv = [
    '-X',
    '-q',
    '-A',
    '-t',
    '-F',
    '\t',
    '-v',
    'ON_ERROR_STOP=1',
    '-h',
    opts.host ?? (await labAddress(PGPOOL)),
    '-p',
    String(opts.port ?? 5432),
    '-U',
    opts.user ?? 'app',
    '-d',
    opts.database ?? 'postgres',
    '-c',
    opts.sql,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('psql', argv, {
      env: { ...process.env, PGPASSWORD: opts.password, PGCONNECT_TIMEOUT: '10', PGSSLMODE: 'disable' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code: code ?? 255,
        rows: rowsOf(Buffer.concat(out).toString()),
        stderr: Buffer.concat(err).toString(),
      }),
    );
  });
}

/** psql through pgpool that must succeed. */
export async function viaPgpool(password: string, sql: string): Promise<string[][]> {
  const r = await psqlAt({ password, sql });
  if (r.code !== 0) throw new Error(`psql through pgpool exited ${r.code}: ${r.stderr}`);
  return r.rows;
}

function rowsOf(out: string): string[][] {
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/** Retries fn until it stops throwing (replication and pgpool's node checks take a moment). */
export async function eventually<T>(fn: () => Promise<T>, ms = 30_000, every = 500): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() >= deadline) throw e;
      await new Promise((r) => setTimeout(r, every));
    }
  }
}

/** pg_stat_replication on the primary: application_name → [state, sync_state]. */
export async function replication(): Promise<Record<string, [string, string]>> {
  const rows = await hostSql(PRIMARY, 'SELECT application_name, state, sync_state FROM pg_stat_replication ORDER BY 1');
  return Object.fromEntries(rows.map(([name, state, sync]) => [name, [state, sync]]));
}

export const appName = (host: string) => host.replace(/[^A-Za-z0-9_]/g, '_');

/** Every replica streams and, with FIRST 1, exactly one is sync and the others potential. */
export async function expectStreamingFirst1(replicas: string[]): Promise<void> {
  const rep = await eventually(async () => {
    const r = await replication();
    expect(Object.keys(r).sort()).toEqual(replicas.map(appName).sort());
    expect(Object.values(r).every(([state]) => state === 'streaming')).toBe(true);
    return r;
  }, 60_000);
  const syncStates = Object.values(rep)
    .map(([, sync]) => sync)
    .sort();
  expect(syncStates).toEqual(['sync', ...Array(replicas.length - 1).fill('potential')].sort());
  const [[names]] = await hostSql(PRIMARY, 'SHOW synchronous_standby_names');
  expect(names).toBe(`FIRST 1 (${replicas.map(appName).join(', ')})`);
}

/** A row written on the primary shows up on every replica. */
export async function expectReplicated(replicas: string[]): Promise<void> {
  const token = randomBytes(8).toString('hex');
  await hostSql(PRIMARY, 'CREATE TABLE IF NOT EXISTS plinth_lab_check (token text PRIMARY KEY, at timestamptz DEFAULT now())');
  await hostSql(PRIMARY, `INSERT INTO plinth_lab_check (token) VALUES ('${token}')`);
  for (const r of replicas) {
    await eventually(async () => {
      expect(await hostSql(r, `SELECT token FROM plinth_lab_check WHERE token = '${token}'`)).toEqual([[token]]);
    });
  }
}

/** SHOW pool_nodes through pgpool: address → { status, role }. */
export async function poolNodes(password: string): Promise<{ id: string; hostname: string; status: string; role: string }[]> {
  const rows = await viaPgpool(password, 'SHOW pool_nodes');
  // node_id | hostname | port | status | pg_status | lb_weight | role | ...
  return rows.map((r) => ({ id: r[0], hostname: r[1], status: r[3], role: r[6] }));
}

/** pgpool lists the primary and these replicas' addresses, all up, one primary. */
export async function expectPoolNodesUp(password: string, primary: string, replicas: string[]): Promise<void> {
  await eventually(
    async () => {
      const nodes = await poolNodes(password);
      expect(nodes.map((n) => n.hostname)).toEqual([primary, ...replicas]);
      expect(nodes.map((n) => n.status)).toEqual(nodes.map(() => 'up'));
      expect(nodes.map((n) => n.role)).toEqual(['primary', ...replicas.map(() => 'standby')]);
    },
    60_000,
    1000,
  );
}

/** The address of a lab host wherever its inventory (Ansible-shaped) gives it. */
export async function addressOf(inventory: string, host: string): Promise<string> {
  const find = (group: any): unknown => {
    const own = group?.hosts?.[host]?.ansible_host;
    if (own) return own;
    for (const child of Object.values(group?.children ?? {})) {
      const found = find(child);
      if (found) return found;
    }
    return undefined;
  };
  const address = find(YAML.parse(await fs.readFile(inventory, 'utf8'))?.all);
  if (typeof address !== 'string') throw new Error(`${inventory} has no address for ${host}`);
  return address;
}
