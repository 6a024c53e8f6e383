// Failure limits on plays, as in Ansible: `serial` batches (a batch whose every host failed stops
// the rolling change), `max_fail_percentage` (checked after every task, against the current
// batch), `any_errors_fatal`. A stopped play ends the run: later batches and later plays do not
// start. Hosts are local-connection hosts with distinct names; failures are `command: "false"`.
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { localInventory, plinthJson, recapOf, tempTree } from '../helpers/cli.js';

const HOSTS = ['h1', 'h2', 'h3', 'h4'];

/** A play with three tasks (the second fails on `failOn`), then a second play on every host. */
function playbook(playKeywords: string, failOn: string[], failKeywords = ''): string {
  const cond = failOn.map((h) => `inventory_hostname == '${h}'`).join(' || ');
  return `- name: rolling
  hosts: all
  gather_facts: false
${playKeywords}
  tasks:
    - name: one
      command: "true"
    - name: two
      command: "false"
      when: ${cond}${failKeywords}
    - name: three
      command: "true"
- name: later play
  hosts: all
  gather_facts: false
  tasks:
    - name: later
      command: "true"
`;
}

async function run(pb: string, flags: string[] = []) {
  const root = await tempTree({ 'inventory.yml': localInventory(HOSTS), 'pb.yml': pb });
  const r = await plinthJson(['-i', path.join(root, 'inventory.yml'), path.join(root, 'pb.yml'), ...flags]);
  const ran = (h: string) => r.events.filter((e) => e.type === 'result' && e.host === h && e.status !== 'skipped').map((e) => `${e.task}=${e.status}${e.ignored ? ' (ignored)' : ''}`);
  return { ...r, ran, recap: recapOf(r.events) };
}

const ALL_OK = ['one=changed', 'three=changed', 'later=changed'];

describe('serial', () => {
  test('serial: 1 — the batch of the failing host stops the rolling change: later hosts and later plays never start', async () => {
    // Why the play stopped is a log line: shown with -v.
    const r = await run(playbook('  serial: 1', ['h2']), ['-v']);
    expect(r.ran('h1'), r.stderr).toEqual(['one=changed', 'three=changed']);
    expect(r.ran('h2')).toEqual(['one=changed', 'two=failed']);
    expect(r.ran('h3')).toEqual([]);
    expect(r.ran('h4')).toEqual([]);
    expect(r.recap.h3).toMatchObject({ ok: 0, changed: 0, failed: 0 });
    expect(r.stderr).toContain('play "rolling" stopped: every host of the batch failed');
    expect(r.code).toBe(2);
  });

  test('serial: 2 — one failure in a batch of two: the other host finishes and the next batch runs', async () => {
    const r = await run(playbook('  serial: 2', ['h2']));
    expect(r.ran('h2'), r.stderr).toEqual(['one=changed', 'two=failed']);
    for (const h of ['h1', 'h3', 'h4']) expect(r.ran(h)).toEqual(ALL_OK);
    expect(r.code).toBe(2);
  });

  test('serial: [1, "50%"] — batch sizes 1, 2, 1; a whole failed batch of two stops the play', async () => {
    const r = await run(playbook('  serial: [1, "50%"]', ['h2', 'h3']));
    expect(r.ran('h1'), r.stderr).toEqual(['one=changed', 'three=changed']);
    expect(r.ran('h2')).toEqual(['one=changed', 'two=failed']);
    expect(r.ran('h3')).toEqual(['one=changed', 'two=failed']);
    expect(r.ran('h4')).toEqual([]);
    expect(r.code).toBe(2);
  });

  test('a failure that is ignored does not stop the batch', async () => {
    const r = await run(playbook('  serial: 1', ['h2'], '\n      ignore_errors: true'));
    expect(r.ran('h2'), r.stderr).toEqual(['one=changed', 'two=failed (ignored)', 'three=changed', 'later=changed']);
    for (const h of ['h1', 'h3', 'h4']) expect(r.ran(h)).toEqual(ALL_OK);
    expect(r.code).toBe(0);
  });
});

describe('max_fail_percentage', () => {
  test('exactly at the limit (1 of 4 = 25%, limit 25) the play goes on: only more than N% stops it', async () => {
    const r = await run(playbook('  max_fail_percentage: 25', ['h2']));
    expect(r.ran('h2'), r.stderr).toEqual(['one=changed', 'two=failed']);
    for (const h of ['h1', 'h3', 'h4']) expect(r.ran(h)).toEqual(ALL_OK);
    expect(r.code).toBe(2);
  });

  test('over the limit (25% > 20) the play stops right after the failing task, for every host, and the run ends', async () => {
    const r = await run(playbook('  max_fail_percentage: 20', ['h2']), ['-v']);
    expect(r.ran('h2'), r.stderr).toEqual(['one=changed', 'two=failed']);
    for (const h of ['h1', 'h3', 'h4']) expect(r.ran(h)).toEqual(['one=changed']);
    expect(r.recap.h1).toMatchObject({ changed: 1, failed: 0 });
    expect(r.stderr).toContain('play "rolling" stopped: 1 of 4 hosts failed, more than max_fail_percentage 20%');
    expect(r.code).toBe(2);
  });

  test('counted per serial batch: 1 failure of 4 hosts is 50% of its batch of 2, over 49: later hosts never start', async () => {
    const r = await run(playbook('  serial: 2\n  max_fail_percentage: 49', ['h3']));
    for (const h of ['h1', 'h2']) expect(r.ran(h), r.stderr).toEqual(['one=changed', 'three=changed']);
    expect(r.ran('h3')).toEqual(['one=changed', 'two=failed']);
    expect(r.ran('h4')).toEqual(['one=changed']);
    expect(r.code).toBe(2);
  });

  test('max_fail_percentage: 0 with serial: 1 stops at the first failure (replicas one at a time)', async () => {
    const r = await run(playbook('  serial: 1\n  max_fail_percentage: 0', ['h1']));
    expect(r.ran('h1'), r.stderr).toEqual(['one=changed', 'two=failed']);
    for (const h of ['h2', 'h3', 'h4']) expect(r.ran(h)).toEqual([]);
    expect(r.code).toBe(2);
  });
});

describe('any_errors_fatal', () => {
  test('one failing host stops every host after that task, and the run ends', async () => {
    const r = await run(playbook('  any_errors_fatal: true', ['h3']));
    expect(r.ran('h3'), r.stderr).toEqual(['one=changed', 'two=failed']);
    for (const h of ['h1', 'h2', 'h4']) expect(r.ran(h)).toEqual(['one=changed']);
    expect(r.recap.h1).toMatchObject({ changed: 1, failed: 0 });
    expect(r.code).toBe(2);
  });

  test('with serial batches, a failure in the first batch means no later batch starts', async () => {
    const r = await run(playbook('  serial: 2\n  any_errors_fatal: true', ['h1']));
    expect(r.ran('h1'), r.stderr).toEqual(['one=changed', 'two=failed']);
    expect(r.ran('h2')).toEqual(['one=changed']);
    expect(r.ran('h3')).toEqual([]);
    expect(r.ran('h4')).toEqual([]);
    expect(r.code).toBe(2);
  });

  test('an ignored failure is not fatal', async () => {
    const r = await run(playbook('  any_errors_fatal: true', ['h3'], '\n      ignore_errors: true'));
    expect(r.ran('h3'), r.stderr).toEqual(['one=changed', 'two=failed (ignored)', 'three=changed', 'later=changed']);
    for (const h of ['h1', 'h2', 'h4']) expect(r.ran(h)).toEqual(ALL_OK);
    expect(r.code).toBe(0);
  });

  test('a failure rescued by a block is not fatal', async () => {
    const pb = `- name: rescued
  hosts: all
  gather_facts: false
  any_errors_fatal: true
  max_fail_percentage: 0
  tasks:
    - block:
        - name: two
          command: "false"
          when: inventory_hostname == 'h2'
      rescue:
        - name: repair
          command: "true"
    - name: three
      command: "true"
`;
    const r = await run(pb);
    expect(r.ran('h2'), r.stderr).toEqual(['two=failed', 'repair=changed', 'three=changed']);
    for (const h of ['h1', 'h3', 'h4']) expect(r.ran(h)).toEqual(['three=changed']);
    expect(r.recap.h2).toMatchObject({ failed: 0, rescued: 1 });
    expect(r.code).toBe(0);
  });
});
