// Check mode fails on definite errors (case 5 of issue 13): only a failure that depends on a
// result check mode did not produce becomes "unknown"; `until` never waits on such a result.
import { describe, expect, it } from 'vitest';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { localInventory, plinth, tempTree } from '../../helpers/cli.js';
import { engineJson } from '../../helpers/engine.js';

/** A command check mode only predicts (it would create the marker), then `then`. */
async function project(then: string): Promise<{ dir: string; state: string }> {
  const state = await tempTree();
  const dir = await tempTree({
    'inventory.yml': localInventory(['h1'], `  vars:\n    state: ${state}\n`),
    'site.yml': `- hosts: all
  gather_facts: false
  tasks:
    - name: make the marker
      command:
        cmd: sh -c 'echo made > {{ state }}/marker; echo made'
        creates: "{{ state }}/marker"
      register: made
${then}`,
  });
  return { dir, state };
}

const results = (events: Record<string, any>[]) => events.filter((e) => e.type === 'result').map((e) => `${e.task}=${e.status}`);

describe('check mode after a change it could not model', () => {
  it('fails on an undefined name, as the real run will: run --check exits 2, plan --detailed-exitcode 1', async () => {
    const { dir, state } = await project(`    - name: say it
      debug:
        msg: "{{ upper_of_x }}"
`);
    const check = await engineJson(['-i', 'inventory.yml', 'site.yml', '--check'], { cwd: dir });
    expect(results(check.events)).toEqual(['make the marker=changed', 'say it=failed']);
    expect(check.code).toBe(2);
    const failed = check.events.find((e) => e.status === 'failed')!;
    expect(failed.message).toMatch(/^site.yml:11:18: undefined variable 'upper_of_x'/);

    const plan = await plinth(['plan', '-i', 'inventory.yml', 'site.yml', '--detailed-exitcode'], { cwd: dir });
    expect(plan.code).toBe(1);
    expect(existsSync(path.join(state, 'marker'))).toBe(false);

    const real = await engineJson(['-i', 'inventory.yml', 'site.yml'], { cwd: dir });
    expect(results(real.events)).toEqual(['make the marker=changed', 'say it=failed']);
  });

  it('fails on arguments that break the module schema after rendering', async () => {
    const { dir } = await project(`    - name: a file in a state that does not exist
      file:
        path: "{{ state }}/other"
        state: "{{ 'tuoch' }}"
`);
    const check = await engineJson(['-i', 'inventory.yml', 'site.yml', '--check'], { cwd: dir });
    expect(results(check.events)).toEqual(['make the marker=changed', 'a file in a state that does not exist=failed']);
    expect(check.events.find((e) => e.status === 'failed')!.message).toMatch(/file: state: .*\(after rendering expressions\)/);
  });

  it('stays unknown when what fails is the result check mode did not produce', async () => {
    const { dir } = await project(`    - name: use its output
      debug:
        msg: "{{ made.stdout.trim() }}"
`);
    const check = await engineJson(['-i', 'inventory.yml', 'site.yml', '--check'], { cwd: dir });
    expect(results(check.events)).toEqual(['make the marker=changed', 'use its output=unknown']);
    expect(check.code).toBe(0);
    const unknown = check.events.find((e) => e.status === 'unknown')!;
    expect(unknown.message).toMatch(/^unknown until apply: depends on make the marker \(run .*\), which check mode does not apply$/);
    expect(unknown.message).not.toMatch(/TypeError|Cannot read/);

    const real = await engineJson(['-i', 'inventory.yml', 'site.yml'], { cwd: dir });
    expect(results(real.events)).toEqual(['make the marker=changed', 'use its output=ok']);
  });

  it('does not wait on `until` whose condition depends on an unapplied change', { timeout: 5 * 60_000 }, async () => {
    // A real run would retry for 50 minutes; a hang here ends in the test's timeout.
    const { dir } = await project(`    - name: wait for the marker
      command: cat {{ state }}/marker
      changed_when: false
      register: seen
      until: seen.rc == 0
      retries: 5
      delay: 600
`);
    const check = await engineJson(['-i', 'inventory.yml', 'site.yml', '--check', '-v'], { cwd: dir });
    expect(results(check.events)).toEqual(['make the marker=changed', 'wait for the marker=unknown']);
    expect(check.code).toBe(0);
    expect(check.events.find((e) => e.status === 'unknown')!.message).toMatch(/^unknown until apply: the until condition is not met yet and depends on make the marker .*; not retried in check mode$/);
    expect(check.stderr).not.toContain('retrying');
    // Unknown, it still shows what it will run.
    const [desired] = check.events.find((e) => e.status === 'unknown')!.diff;
    expect(desired.target).toBe('command: what it will ensure (the current state is known after apply)');
    expect(desired.after).toMatch(/^cmd: cat \S+\/marker$/m);

    const real = await engineJson(['-i', 'inventory.yml', 'site.yml'], { cwd: dir });
    expect(results(real.events)).toEqual(['make the marker=changed', 'wait for the marker=ok']);
  });

  it('shows the rendered content of a template whose destination cannot be predicted yet', async () => {
    const { dir } = await project(`    - name: the conf
      template:
        src: t.ejs
        dest: "{{ state }}/not-yet/t.conf"
`);
    await fs.mkdir(path.join(dir, 'templates'));
    await fs.writeFile(path.join(dir, 'templates/t.ejs'), 'port = <%= 5432 + 1 %>\n');
    const check = await engineJson(['-i', 'inventory.yml', 'site.yml', '--check'], { cwd: dir });
    const unknown = check.events.find((e) => e.task === 'the conf')!;
    expect(unknown.status).toBe('unknown');
    expect(unknown.diff).toEqual([{ target: expect.stringMatching(/\/not-yet\/t\.conf$/), before: '', after: 'port = 5433\n' }]);
  });
});
