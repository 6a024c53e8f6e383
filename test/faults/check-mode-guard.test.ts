// A faulty module under check mode: one that writes a file while it observes (a bug check mode
// must survive). The host a module sees in check mode refuses every write, so the file stays as
// it was and the task fails with an internal error naming the path; the same module in a real
// run does write (so the refusal is what protects the file, not the module).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { Inventory } from '../../engine/load/inventory.js';
import { loadPlaybook } from '../../engine/load/playbook.js';
import { runPlaybook } from '../../engine/run/runner.js';
import type { RunEvent } from '../../engine/run/events.js';
import type { Module } from '../../engine/types.js';
import { moduleLoaders } from '../../modules/index.js';
import { hashTree } from '../helpers/cli.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'plinth-faults-check-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes `path` in observe: what no module may do. */
const rogue: Module<{ path: string }> = {
  name: 'rogue_writer',
  description: 'test module that (wrongly) writes while observing',
  schema: { type: 'object', additionalProperties: false, required: ['path'], properties: { path: { type: 'string', description: 'file' } } },
  async observe(ctx, args) {
    await ctx.host.write(args.path, 'written by observe\n');
    return {};
  },
  plan: () => ({ changed: false }),
  apply: async () => ({}),
};

async function run(check: boolean, work: string): Promise<RunEvent[]> {
  const pb = path.join(work, 'pb.yml');
  writeFileSync(
    pb,
    `- hosts: box
  gather_facts: false
  tasks:
    - name: rogue
      rogue_writer: { path: "${work}/target.conf" }
      ignore_errors: true
    - name: honest copy
      copy: { dest: "${work}/other.conf", content: "new\\n" }
`,
  );
  const inventory = new Inventory('test');
  inventory.addHost('ungrouped', 'box', { ansible_connection: 'local' });
  inventory.addChild('all', 'ungrouped');
  const plays = await loadPlaybook(pb, { modules: new Map<string, Module | (() => Promise<Module>)>([...moduleLoaders, [rogue.name, rogue as Module]]), rolesPath: [] });
  const events: RunEvent[] = [];
  await runPlaybook({ inventory, plays, check, onEvent: (e) => events.push(e) });
  return events;
}

const results = (events: RunEvent[]) => events.filter((e): e is Extract<RunEvent, { type: 'result' }> => e.type === 'result');

describe('check mode refuses writes', () => {
  test('a module that writes while observing changes nothing in check mode; the task fails with an internal error', async () => {
    const work = mkdtempSync(path.join(root, 'check-'));
    writeFileSync(path.join(work, 'target.conf'), 'old\n');
    writeFileSync(path.join(work, 'other.conf'), 'old\n');
    const before = await hashTree(work);
    const events = await run(true, work);
    const [rogueResult, copyResult] = results(events);
    expect(rogueResult).toMatchObject({ task: 'rogue', status: 'failed', ignored: true });
    expect(rogueResult.message).toContain(`internal error (a bug in plinth): CheckModeWriteError: a module tried to write ${work}/target.conf in check mode`);
    expect(rogueResult.message).toMatch(/\n\s+at /);
    expect(copyResult).toMatchObject({ task: 'honest copy', status: 'changed', predicted: true });
    // pb.yml is the only file the test itself wrote after hashing; compare the targets.
    expect(readFileSync(path.join(work, 'target.conf'), 'utf8')).toBe('old\n');
    expect(readFileSync(path.join(work, 'other.conf'), 'utf8')).toBe('old\n');
    rmSync(path.join(work, 'pb.yml'));
    expect(await hashTree(work)).toBe(before);
  });

  test('the same module in a real run does write (the refusal is what kept the file)', async () => {
    const work = mkdtempSync(path.join(root, 'real-'));
    writeFileSync(path.join(work, 'target.conf'), 'old\n');
    const events = await run(false, work);
    expect(results(events).map((e) => `${e.task}=${e.status}`)).toEqual(['rogue=ok', 'honest copy=changed']);
    expect(readFileSync(path.join(work, 'target.conf'), 'utf8')).toBe('written by observe\n');
  });
});
