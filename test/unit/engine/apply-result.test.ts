// After its up-front check, `plinth apply` compares what the real pass did with the plan, task by
// task: a task that changed where the plan said ok (or did something else than planned) ran
// unreviewed, and apply says so and fails, as Terraform does for a provider's inconsistent result.
import { afterAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { localInventory, plinth, tempTree } from '../../helpers/cli.js';

const made: string[] = [];
afterAll(async () => {
  for (const d of made) await fs.rm(d, { recursive: true, force: true });
});

/** A project whose first task writes app.conf in a real run only, while telling check mode it changes nothing. */
async function project(first: string): Promise<{ dir: string; state: string }> {
  const state = await tempTree({ 'app.conf': 'keep = me\n' });
  const dir = await tempTree({
    'inventory.yml': localInventory(['h1'], `  vars:\n    state: ${state}\n`),
    'site.yml': `- hosts: all
  gather_facts: false
  tasks:
    - name: a status check
      shell: "${first}"
      changed_when: false
    - name: the setting
      lineinfile:
        path: "{{ state }}/app.conf"
        line: keep = me
    - name: another setting
      lineinfile:
        path: "{{ state }}/app.conf"
        line: also = this
`,
  });
  made.push(state, dir);
  return { dir, state };
}

describe('apply compares its real pass with the plan', () => {
  it('a task that changed where the plan said ok: apply exits 1 and names it', async () => {
    const { dir, state } = await project(`{{ ansible_check_mode ? 'true' : 'echo overwritten > ' + state + '/app.conf' }}`);
    const planned = await plinth(['plan', '-i', 'inventory.yml', 'site.yml', '-o', 'plan.json'], { cwd: dir });
    expect(planned.code, planned.stderr).toBe(0);

    const r = await plinth(['apply', 'plan.json'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('the apply did not do what the plan said (inconsistent result): 2 task(s) ran unreviewed');
    expect(r.stderr).toContain('h1: task "the setting" (site.yml:7) was planned ok, apply: changed (update ');
    // Planned as a change, but the file it changed was not the one reviewed: its diff differs.
    expect(r.stderr).toContain('h1: task "another setting" (site.yml:11) was planned changed (update ');
    expect(r.stderr).toContain('apply made a change other than the reviewed diff');
    expect(r.stderr).not.toContain('a status check');
    expect(await fs.readFile(path.join(state, 'app.conf'), 'utf8')).toBe('overwritten\nkeep = me\nalso = this\n');
  });

  it('an apply that does what the plan said exits 0 and reports no difference', async () => {
    const { dir, state } = await project('true');
    expect((await plinth(['plan', '-i', 'inventory.yml', 'site.yml', '-o', 'plan.json'], { cwd: dir })).code).toBe(0);
    const r = await plinth(['apply', 'plan.json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/inconsistent|unreviewed|left unknown/);
    expect(await fs.readFile(path.join(state, 'app.conf'), 'utf8')).toBe('keep = me\nalso = this\n');
  });
});
