// `plinth plan` then `plinth apply plan.json`, as a user types them, on this machine's files:
// apply runs exactly what was reviewed, or refuses before its first change and says why.
import { describe, expect, it } from 'vitest';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { hashTree, localInventory, plinth, tempTree } from '../../helpers/cli.js';
import { startKubeApiServer } from '../../helpers/kube-apiserver.js';
import type { PlanFile } from '../../../engine/plan/plan-file.js';

/**
 * Case 1 of issue 13: a lineinfile and a command with `creates`, in a project folder of its own;
 * the host's files are in another folder (`state`, an inventory variable).
 */
function project(line: string, marker: string, state = '/nonexistent'): Record<string, string> {
  return {
    'inventory.yml': localInventory(['h1'], `  vars:\n    state: ${state}\n`),
    'site.yml': `- hosts: all
  gather_facts: false
  tasks:
    - name: the setting
      lineinfile:
        path: "{{ state }}/app.conf"
        line: '${line}'
    - name: the one-off command
      command:
        cmd: touch {{ state }}/${marker}
        creates: "{{ state }}/${marker}"
    - name: the config from a template
      template:
        src: app.ejs
        dest: "{{ state }}/from-template.conf"
`,
    'templates/app.ejs': 'name = <%= inventory_hostname %>\n',
  };
}

/** The project and the host's folder, which holds app.conf at first. */
async function setUp(line = 'x = 1', marker = 'ran-A'): Promise<{ dir: string; state: string }> {
  const state = await tempTree({ 'app.conf': 'keep = me\n' });
  return { dir: await tempTree(project(line, marker, state)), state };
}

async function planIn(dir: string, ...extra: string[]) {
  const r = await plinth(['plan', '-i', 'inventory.yml', 'site.yml', '-o', 'plan.json', '--report', 'plan.md', ...extra], { cwd: dir });
  expect(r.stderr).not.toMatch(/ERROR|fatal/);
  expect(r.code).toBe(0);
  return JSON.parse(await fs.readFile(path.join(dir, 'plan.json'), 'utf8')) as PlanFile;
}

describe('plan, then apply of that plan', () => {
  it('refuses a plan whose playbook was edited after review, and writes nothing (case 1)', async () => {
    const { dir, state } = await setUp();
    await planIn(dir);
    await fs.writeFile(path.join(dir, 'site.yml'), project('x = 999', 'ran-B-not-reviewed')['site.yml']);
    const before = await hashTree(state);

    const r = await plinth(['apply', 'plan.json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the plan is stale: nothing was changed');
    expect(r.stderr).toContain('site.yml changed since the plan');
    expect(await hashTree(state)).toBe(before);
    expect(existsSync(path.join(state, 'ran-B-not-reviewed'))).toBe(false);
    expect(existsSync(path.join(state, 'ran-A'))).toBe(false);

    const forced = await plinth(['apply', 'plan.json', '--allow-drift'], { cwd: dir });
    expect(forced.code).toBe(1);
    expect(forced.stderr).toContain('site.yml changed since the plan');
    expect(await hashTree(state)).toBe(before);
  });

  it('refuses a plan whose template changed, naming the template', async () => {
    const { dir, state } = await setUp();
    await planIn(dir);
    await fs.writeFile(path.join(dir, 'templates/app.ejs'), 'name = <%= inventory_hostname %>\nnot = reviewed\n');
    const before = await hashTree(state);
    const r = await plinth(['apply', 'plan.json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('templates/app.ejs changed since the plan');
    expect(await hashTree(state)).toBe(before);
  });

  it('refuses a plan made with other inventory vars or other extra vars', async () => {
    const { dir, state } = await setUp('x = {{ setting }}');
    await planIn(dir, '-e', 'setting=1');
    const before = await hashTree(state);
    const otherVars = await plinth(['apply', 'plan.json', '-e', 'setting=2'], { cwd: dir });
    expect(otherVars.code).toBe(1);
    expect(otherVars.stderr).toContain('the extra vars (-e) differ');

    await fs.mkdir(path.join(dir, 'host_vars'));
    await fs.writeFile(path.join(dir, 'host_vars/h1.yml'), 'setting: 3\n');
    const newVarsFile = await plinth(['apply', 'plan.json', '-e', 'setting=1'], { cwd: dir });
    expect(newVarsFile.code).toBe(1);
    expect(newVarsFile.stderr).toContain('host_vars/h1.yml is read now but was not read for the plan');
    expect(await hashTree(state)).toBe(before);
  });

  it('applies the reviewed plan from another checkout and directory; plan, report and --json name files relative to the project', async () => {
    const { dir, state } = await setUp();
    const plan = await planIn(dir);
    const report = await fs.readFile(path.join(dir, 'plan.md'), 'utf8');
    const planText = await fs.readFile(path.join(dir, 'plan.json'), 'utf8');
    for (const text of [planText, report]) {
      expect(text).not.toContain(dir);
    }
    expect(plan.playbook).toBe('site.yml');
    expect(plan.inventory).toEqual(['inventory.yml']);
    expect(Object.keys(plan.sources).sort()).toEqual(['inventory.yml', 'site.yml', 'templates/app.ejs']);
    expect(plan.tasks.filter((t) => t.status === 'changed').map((t) => t.file)).toEqual(['site.yml:4', 'site.yml:8', 'site.yml:12']);
    expect(report).toContain('`site.yml:4` (lineinfile)');

    // Applied from another checkout of the project (as a CI job does), from yet another directory.
    const checkout = await tempTree();
    await fs.cp(dir, checkout, { recursive: true });
    const elsewhere = await tempTree();
    const r = await plinth(['apply', path.join(checkout, 'plan.json'), '--json'], { cwd: elsewhere });
    expect(r.stderr).not.toMatch(/ERROR|fatal/);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(dir);
    expect(r.stdout).not.toContain(checkout);
    const results = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === 'result');
    expect(results.map((e) => `${e.file} ${e.status}`)).toEqual(['site.yml:4 changed', 'site.yml:8 changed', 'site.yml:12 changed']);
    expect(await fs.readFile(path.join(state, 'app.conf'), 'utf8')).toBe('keep = me\nx = 1\n');
    expect(existsSync(path.join(state, 'ran-A'))).toBe(true);
    expect(await fs.readFile(path.join(state, 'from-template.conf'), 'utf8')).toBe('name = h1\n');
  });

  it('stops a host whose file was edited after the plan and shows the edited line; --allow-drift applies', async () => {
    const { dir, state } = await setUp();
    await planIn(dir);
    const conf = path.join(state, 'app.conf');
    await fs.writeFile(conf, 'keep = me\nedited = by hand\n');

    const refused = await plinth(['apply', 'plan.json'], { cwd: dir });
    expect(refused.code).toBe(2);
    const out = refused.stdout + refused.stderr;
    expect(out).toContain('h1 drifted since the plan: task "the setting" (site.yml:4) observes a different state');
    expect(out).toMatch(/^\+ {0,6}edited = by hand$/m);
    expect(out).not.toMatch(/planned [0-9a-f]{12}, now [0-9a-f]{12}/);
    expect(out).toContain('nothing is changed on h1: plan again, or apply with --allow-drift');
    expect(await fs.readFile(conf, 'utf8')).toBe('keep = me\nedited = by hand\n');
    expect(existsSync(path.join(state, 'ran-A'))).toBe(false);

    const forced = await plinth(['apply', 'plan.json', '--allow-drift'], { cwd: dir });
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('warning: h1 drifted since the plan');
    expect(forced.stderr).toContain('applying anyway (--allow-drift)');
    expect(await fs.readFile(conf, 'utf8')).toBe('keep = me\nedited = by hand\nx = 1\n');
  });

  it('does not pin what read-only tasks read live (a clock, an LSN): the plan applies', async () => {
    const state = await tempTree();
    const dir = await tempTree({
      'inventory.yml': localInventory(['h1'], `  vars:\n    state: ${state}\n`),
      'site.yml': `- hosts: all
  gather_facts: false
  tasks:
    - name: read something that moves
      command: date +%s%N
      changed_when: false
      register: now
    - name: wait until it has moved past itself
      shell: "test $(date +%s%N) -gt {{ now.stdout }}"
      changed_when: false
    - name: then the change
      copy:
        dest: "{{ state }}/a.conf"
        content: "port = 5432\\n"
`,
    });
    await planIn(dir);
    const r = await plinth(['apply', 'plan.json'], { cwd: dir });
    expect(r.stderr).not.toMatch(/ERROR|stale|drift/);
    expect(r.code).toBe(0);
    expect(existsSync(path.join(state, 'a.conf'))).toBe(true);
  });

  it('applies a fresh plan whose later tasks read what earlier tasks of the same apply wrote', async () => {
    const state = await tempTree();
    const dir = await tempTree({
      'inventory.yml': localInventory(['h1'], `  vars:\n    state: ${state}\n`),
      'site.yml': `- hosts: all
  gather_facts: false
  tasks:
    - name: write the file
      copy:
        dest: "{{ state }}/a.conf"
        content: "port = 5432\\n"
      notify: touch the marker
    - name: then edit it
      lineinfile:
        path: "{{ state }}/a.conf"
        line: "max_connections = 200"
  handlers:
    - name: touch the marker
      file:
        path: "{{ state }}/handler-ran"
        state: touch
`,
    });
    const plan = await planIn(dir);
    expect(plan.tasks.map((t) => `${t.task}=${t.status}`)).toEqual(['write the file=changed', 'then edit it=changed', 'touch the marker=changed']);
    const r = await plinth(['apply', 'plan.json'], { cwd: dir });
    expect(r.stderr).not.toMatch(/ERROR|drift/);
    expect(r.code).toBe(0);
    expect(await fs.readFile(path.join(state, 'a.conf'), 'utf8')).toBe('port = 5432\nmax_connections = 200\n');
    expect(existsSync(path.join(state, 'handler-ran'))).toBe(true);
  });

  it('pins what controller-side modules observe too: a ConfigMap made by hand after the plan stops the apply', { timeout: 10 * 60_000 }, async () => {
    const api = await startKubeApiServer();
    try {
      const ns = await api.namespace('plan');
      const configMap = (value: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app', namespace: ns }, data: { setting: value } });
      const dir = await tempTree({
        'site.yml': `- hosts: localhost
  gather_facts: false
  tasks:
    - name: the app's settings
      k8s:
        kubeconfig: ${api.kubeconfig}
        definition: ${JSON.stringify(configMap('2'))}
`,
      });
      const r = await plinth(['plan', 'site.yml', '-o', 'plan.json'], { cwd: dir });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      await api.client.request('POST', `/api/v1/namespaces/${ns}/configmaps?fieldManager=kubectl-edit`, { body: JSON.stringify(configMap('made-by-hand')), contentType: 'application/json' });
      const refused = await plinth(['apply', 'plan.json'], { cwd: dir });
      expect(refused.code).toBe(2);
      expect(refused.stdout).toContain('localhost drifted since the plan: task "the app\'s settings" (site.yml:4) observes a different state');
      const stored = (await api.client.request('GET', `/api/v1/namespaces/${ns}/configmaps/app`)) as { data: Record<string, string> };
      expect(stored.data.setting).toBe('made-by-hand');
    } finally {
      await api.stop();
    }
  });
  it('a task that only reads live data (a plan that says readOnly) does not make the plan stale when that data changes', async () => {
    const state = await tempTree({ 'standbys.txt': 'replica-1\n', 'app.conf': '' });
    // Like postgres_query in read mode: what it reads (rows of pg_stat_replication) is data, not managed state.
    const counter = (readOnly: boolean) => `export default {
  name: 'line_count',
  description: 'count the lines of a file',
  schema: { type: 'object', additionalProperties: false, required: ['path'], properties: { path: { type: 'string' } } },
  async observe(ctx, args) { return { lines: String(await ctx.host.read(args.path, ctx.become) ?? '').split('\\n').filter(Boolean).length }; },
  plan(observed) { return { changed: false, ${readOnly ? 'readOnly: true, ' : ''}summary: observed.lines + ' line(s)', result: { lines: observed.lines } }; },
  async apply() { return {}; },
};
`;
    const files = (readOnly: boolean) => ({
      'inventory.yml': localInventory(['h1'], `  vars:\n    state: ${state}\n`),
      'site.yml': `- hosts: all
  gather_facts: false
  tasks:
    - name: standbys now
      line_count:
        path: "{{ state }}/standbys.txt"
    - name: the setting
      lineinfile:
        path: "{{ state }}/app.conf"
        line: x = 1
`,
      'library/line_count.mjs': counter(readOnly),
    });
    const dir = await tempTree(files(true));
    await planIn(dir);
    await fs.appendFile(path.join(state, 'standbys.txt'), 'replica-2\n');
    const applied = await plinth(['apply', 'plan.json'], { cwd: dir });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(await fs.readFile(path.join(state, 'app.conf'), 'utf8')).toBe('x = 1\n');

    // The same module without readOnly: its summary is pinned, and the new line makes the plan stale.
    await fs.writeFile(path.join(state, 'app.conf'), '');
    await fs.writeFile(path.join(state, 'standbys.txt'), 'replica-1\n');
    const pinned = await tempTree(files(false));
    await planIn(pinned);
    await fs.appendFile(path.join(state, 'standbys.txt'), 'replica-2\n');
    const refused = await plinth(['apply', 'plan.json'], { cwd: pinned });
    expect(refused.code).not.toBe(0);
    expect(await fs.readFile(path.join(state, 'app.conf'), 'utf8')).toBe('');
  });
});
