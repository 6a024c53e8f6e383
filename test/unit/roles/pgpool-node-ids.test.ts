// roles/pgpool: which node id each backend gets, and whether pgpool.conf needs a restart or a
// reload. pgpool-II fixes a backend's node id while it runs and frees none by a reload, so a host
// keeps its id, a removed one leaves a gap and a new one takes an id pgpool has unused. Both are
// the role's own expression and script, read from its tasks file and run here (the script with
// the controller's sh and awk, systemctl stubbed); the lab test (test/lab/day2.test.ts) runs them
// against a real pgpool.
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as YAML from 'yaml';
import { evaluateExpression } from '../../../engine/expr/evaluate.js';

const TASKS = path.join(import.meta.dirname, '../../../roles/pgpool/tasks/main.yml');
const ADDRESS: Record<string, string> = {
  'pg-primary': '198.18.0.10',
  'pg-replica-1': '198.18.0.11',
  'pg-replica-2': '198.18.0.12',
  'pg-replica-3': '198.18.0.14',
};

let tasks: Record<string, any>[];
beforeAll(async () => {
  tasks = YAML.parse(await fs.readFile(TASKS, 'utf8'));
});
const task = (name: string) => {
  const t = tasks.find((x) => x.name === name);
  if (!t) throw new Error(`roles/pgpool has no task "${name}"`);
  return t;
};

describe('node id of each backend', () => {
  /** The slots for these replicas, given what pgpool runs with ("id address unused|taken" lines). */
  function slots(replicas: string[], running: string): (string | null)[] {
    const raw = String(task('Node id of each backend').set_fact.pgpool_backend_slots).trim();
    const expression = raw.replace(/^\{\{/, '').replace(/\}\}$/, '');
    const vars: Record<string, unknown> = {
      pgpool_backend_groups: ['primary', 'replicas'],
      groups: { primary: ['pg-primary'], replicas },
      hostvars: Object.fromEntries(Object.entries(ADDRESS).map(([h, a]) => [h, { ansible_host: a }])),
      pgpool_running_nodes: { stdout: running },
    };
    const result = evaluateExpression(expression, (name) => (name in vars ? { found: true, value: vars[name] } : { found: false })) as { id: number; host: string | null }[];
    result.forEach((s, i) => expect(s.id).toBe(i));
    return result.map((s) => s.host);
  }

  test('pgpool not running (or not yet started with this role): in inventory order from 0', () => {
    expect(slots(['pg-replica-1', 'pg-replica-2'], '')).toEqual(['pg-primary', 'pg-replica-1', 'pg-replica-2']);
  });

  test('a host keeps its id; a new one takes the next', () => {
    const running = '0 198.18.0.10 taken\n1 198.18.0.11 taken\n2 198.18.0.12 taken';
    expect(slots(['pg-replica-1', 'pg-replica-2', 'pg-replica-3'], running)).toEqual(['pg-primary', 'pg-replica-1', 'pg-replica-2', 'pg-replica-3']);
  });

  test('a removed host in the middle leaves a gap: the others are not renumbered', () => {
    const running = '0 198.18.0.10 taken\n1 198.18.0.11 taken\n2 198.18.0.12 taken\n3 198.18.0.14 taken';
    expect(slots(['pg-replica-1', 'pg-replica-3'], running)).toEqual(['pg-primary', 'pg-replica-1', null, 'pg-replica-3']);
  });

  test('the inventory order does not move a running host', () => {
    const running = '0 198.18.0.10 taken\n1 198.18.0.14 taken\n2 198.18.0.11 taken';
    expect(slots(['pg-replica-1', 'pg-replica-3'], running)).toEqual(['pg-primary', 'pg-replica-3', 'pg-replica-1']);
  });

  test('a new host skips an id pgpool still holds (a removed host, down until the restart) and takes an unused one', () => {
    const heldByRemoved = '0 198.18.0.10 taken\n1 198.18.0.11 taken\n2 198.18.0.12 taken\n3 - taken';
    expect(slots(['pg-replica-1', 'pg-replica-3'], heldByRemoved)).toEqual(['pg-primary', 'pg-replica-1', null, null, 'pg-replica-3']);
    const unusedAfterRestart = '0 198.18.0.10 taken\n1 198.18.0.11 taken\n2 - unused\n3 198.18.0.14 taken';
    expect(slots(['pg-replica-1', 'pg-replica-2', 'pg-replica-3'], unusedAfterRestart)).toEqual(['pg-primary', 'pg-replica-1', 'pg-replica-2', 'pg-replica-3']);
  });

  test('a removed host added again gets its old id back (pgpool still holds it with its address)', () => {
    const running = '0 198.18.0.10 taken\n1 198.18.0.11 taken\n2 198.18.0.12 taken\n3 198.18.0.14 taken';
    expect(slots(['pg-replica-1', 'pg-replica-2', 'pg-replica-3'], running)).toEqual(['pg-primary', 'pg-replica-1', 'pg-replica-2', 'pg-replica-3']);
  });
});

describe('pgpool.conf needs a restart, a reload, or nothing', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-pgpool-decision-'));
    await fs.mkdir(path.join(dir, 'bin'));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  const settings = "backend_clustering_mode = 'streaming_replication'\nport = 5432\n";
  const backend = (id: number, host: string) => `# backend ${host}\nbackend_hostname${id} = '${ADDRESS[host]}'\nbackend_port${id} = 5432\nbackend_flag${id} = 'ALLOW_TO_FAILOVER'\n\n`;
  const conf = (slots: (string | null)[], extra = '') =>
    settings + slots.map((h, id) => (h ? backend(id, h) : `# node ${id}: no backend (a removed host's id; see roles/pgpool)\n\n`)).join('') + extra;
  const FOUR = ['pg-primary', 'pg-replica-1', 'pg-replica-2', 'pg-replica-3'];
  const RUNNING_FOUR = '0 198.18.0.10 taken\n1 198.18.0.11 taken\n2 198.18.0.12 taken\n3 198.18.0.14 taken';

  async function decide(next: string, applied: string, running: string, active = true): Promise<string> {
    await fs.writeFile(path.join(dir, 'pgpool.conf'), next);
    await fs.writeFile(path.join(dir, 'pgpool.conf.applied'), applied);
    await fs.writeFile(path.join(dir, 'bin', 'systemctl'), `#!/bin/sh\nexit ${active ? 0 : 3}\n`, { mode: 0o755 });
    const r = spawnSync('/bin/sh', ['-c', task('pgpool.conf needs a restart, a reload, or nothing').shell.cmd], {
      env: {
        PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`,
        PGPOOL_CONF: path.join(dir, 'pgpool.conf'),
        PGPOOL_APPLIED: path.join(dir, 'pgpool.conf.applied'),
        PGPOOL_SERVICE: 'pgpool2',
        PGPOOL_RUNNING: running,
      },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    return r.stdout.trim();
  }

  test('nothing changed: nothing', async () => {
    expect(await decide(conf(FOUR), conf(FOUR), RUNNING_FOUR)).toBe('none');
  });

  test('a backend added in an id pgpool has unused: a reload', async () => {
    expect(await decide(conf(FOUR), conf(FOUR.slice(0, 3)), '0 198.18.0.10 taken\n1 198.18.0.11 taken\n2 198.18.0.12 taken')).toBe('reload');
    expect(await decide(conf(FOUR), conf(['pg-primary', 'pg-replica-1', null, 'pg-replica-3']), '0 198.18.0.10 taken\n1 198.18.0.11 taken\n2 - unused\n3 198.18.0.14 taken')).toBe('reload');
  });

  test('a backend removed, in the middle or at the end: a reload', async () => {
    expect(await decide(conf(['pg-primary', 'pg-replica-1', null, 'pg-replica-3']), conf(FOUR), RUNNING_FOUR)).toBe('reload');
    expect(await decide(conf(FOUR.slice(0, 3)), conf(FOUR), RUNNING_FOUR)).toBe('reload');
  });

  test('a removed host added again in its old id, which pgpool still holds with its address: a reload', async () => {
    expect(await decide(conf(FOUR), conf(['pg-primary', 'pg-replica-1', null, 'pg-replica-3']), RUNNING_FOUR)).toBe('reload');
  });

  test('a backend in an id pgpool holds for another address (or none): a restart', async () => {
    const held = '0 198.18.0.10 taken\n1 198.18.0.11 taken\n2 - taken\n3 198.18.0.14 taken';
    expect(await decide(conf(FOUR), conf(['pg-primary', 'pg-replica-1', null, 'pg-replica-3']), held)).toBe('restart');
  });

  test('another host in a kept id (a renumbering): a restart', async () => {
    expect(await decide(conf(['pg-primary', 'pg-replica-1', 'pg-replica-3']), conf(FOUR), RUNNING_FOUR)).toBe('restart');
  });

  test('a setting other than the backends changed: a restart', async () => {
    expect(await decide(conf(FOUR, 'num_init_children = 33\n'), conf(FOUR), RUNNING_FOUR)).toBe('restart');
  });

  test('pgpool stopped, or what it runs with unknown: a restart', async () => {
    expect(await decide(conf(FOUR), conf(FOUR), RUNNING_FOUR, false)).toBe('restart');
    expect(await decide(conf(FOUR), conf(FOUR), '')).toBe('restart');
  });
});
