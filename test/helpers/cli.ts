// Runs the real CLI (`node bin/plinth.js ...`) as a child process and captures what it prints.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixtures = path.join(repoRoot, 'test', 'fixtures', 'engine');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  stdin?: string;
}

/** Someone else's `tsc` rewrote dist/ while the CLI was loading it: worth one more try. */
const BUILD_RACE = /SyntaxError: The requested module '\.|ERR_MODULE_NOT_FOUND|Unexpected end of input/;

/** `plinth ...args`, not on a TTY, without colours. */
export async function plinth(args: string[], o: CliOptions = {}): Promise<CliResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await spawnPlinth(args, o);
    if (attempt >= 3 || !BUILD_RACE.test(r.stderr)) return r;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function spawnPlinth(args: string[], o: CliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, PLINTH_DEBUG: undefined, ...o.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'plinth.js'), ...args], {
      cwd: o.cwd ?? repoRoot,
      env: env as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(o.stdin ?? '');
  });
}

/** `plinth run --json ...`: the parsed JSON lines of stdout (every line must be JSON). */
export async function plinthJson(args: string[], o: CliOptions = {}): Promise<CliResult & { events: Record<string, any>[] }> {
  const r = await plinth(['run', '--json', ...args], o);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  const events = lines.map((l) => {
    try {
      return JSON.parse(l) as Record<string, any>;
    } catch {
      throw new Error(`stdout line is not JSON: ${l}\nstderr: ${r.stderr}`);
    }
  });
  return { ...r, events };
}

/** A fresh temp dir, with files written from a map of relative path → content. */
export async function tempTree(files: Record<string, string> = {}): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-engine-'));
  await writeTree(dir, files);
  return dir;
}

/** tempTree for one test file: every folder it made is removed after the file's tests. */
export function tempTrees(): (files?: Record<string, string>) => Promise<string> {
  const made: string[] = [];
  afterAll(async () => {
    for (const dir of made) await fs.rm(dir, { recursive: true, force: true });
  });
  return async (files = {}) => {
    const dir = await tempTree(files);
    made.push(dir);
    return dir;
  };
}

export async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    await fs.mkdir(path.dirname(p), { recursive: true });
    await fs.writeFile(p, content);
  }
}

/** A hash of every path, type, mode and content under dir: equal hashes mean nothing changed. */
export async function hashTree(dir: string): Promise<string> {
  const h = createHash('sha256');
  const walk = async (d: string): Promise<void> => {
    const entries = (await fs.readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const p = path.join(d, e.name);
      const st = await fs.lstat(p);
      h.update(`${path.relative(dir, p)}\0${st.mode}\0${st.uid}:${st.gid}\0${st.mtimeMs}\0`);
      if (e.isSymbolicLink()) h.update(await fs.readlink(p));
      else if (e.isDirectory()) await walk(p);
      else if (e.isFile()) h.update(await fs.readFile(p));
    }
  };
  await walk(dir);
  return h.digest('hex');
}

/** Results of a --json run, as "task=status" per host, in order. */
export function statuses(events: Record<string, any>[], host?: string): string[] {
  return events.filter((e) => e.type === 'result' && (!host || e.host === host)).map((e) => `${e.task}=${e.status}`);
}

export function recapOf(events: Record<string, any>[]): Record<string, Record<string, number>> {
  const recap = events.filter((e) => e.type === 'recap');
  if (recap.length !== 1) throw new Error(`expected one recap object, got ${recap.length}`);
  return recap[0].hosts;
}

/** A local inventory for tests: every host uses the local connection. */
export function localInventory(hosts: string[], extra = ''): string {
  return `all:\n  hosts:\n${hosts.map((h) => `    ${h}:\n      ansible_connection: local\n`).join('')}${extra}`;
}
