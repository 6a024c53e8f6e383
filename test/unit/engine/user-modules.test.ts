// A playbook's own modules, in library/ beside it or inside a role (Ansible's convention), through
// the CLI as a user types it: the README's example (examples/user-module, TypeScript) plans with
// --check --diff, applies, and changes nothing the second time; a role's JavaScript module serves
// the role and the tasks after it; a module file that is not a module, a module that takes a
// plinth module's name and a module's own bug are each reported naming the file.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { plinth, plinthJson, recapOf, repoRoot, statuses, tempTrees } from '../../helpers/cli.js';

const example = path.join(repoRoot, 'examples', 'user-module');
const tree = tempTrees();

const play = (tasks: string) => `- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
${tasks}`;

/** A module in JavaScript, as a user would write it without TypeScript. */
const greetModule = (name: string, extra = '') => `export default {
  name: '${name}',
  description: 'a greeting in a file',
  schema: { type: 'object', required: ['path'], additionalProperties: false, properties: { path: { type: 'string' }, to: { type: 'string', default: 'world' } } },
  async observe(ctx, args) { return { content: (await ctx.host.read(args.path))?.toString('utf8') ?? null }; },
  plan(observed, args) {
    const want = 'hello ' + args.to + '\\n';
    if (observed.content === want) return { changed: false };
    return { changed: true, summary: 'greet ' + args.to, diffs: [{ target: args.path, before: observed.content ?? '', after: want }], action: want };
  },
  async apply(ctx, action, args) { await ctx.host.write(args.path, action); return {}; },${extra}
};
`;

describe('the README example: env_line from examples/user-module/library (TypeScript)', () => {
  it('is listed by `plinth modules` with its file, and shows its arguments', async () => {
    const list = await plinth(['modules'], { cwd: example });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^env_line +KEY=value lines in an environment file \(library\/env_line\.ts\)$/m);
    expect(list.stdout).toMatch(/^copy /m);
    const one = await plinth(['modules', 'env_line'], { cwd: example });
    expect(one.stdout).toContain('values (object; required): KEY: value');
    const elsewhere = await plinth(['modules', '--library', path.join(example, 'library')], { cwd: repoRoot });
    expect(elsewhere.stdout).toMatch(/^env_line .*\(examples\/user-module\/library\/env_line\.ts\)$/m);
  });

  it('plans in check mode with a diff, applies, and the second run changes nothing', async () => {
    const work = await tree({});
    const envFile = path.join(work, 'app.env');
    const args = ['site.yml', '-e', `env_file=${envFile}`];

    const check = await plinthJson([...args, '--check', '--diff'], { cwd: example });
    expect(check.code, check.stderr).toBe(0);
    const planned = check.events.find((e) => e.type === 'result');
    expect(planned).toMatchObject({ task: "the app's environment", status: 'changed', summary: `set PORT, HOST in ${envFile}` });
    expect(planned!.diff).toEqual([{ target: envFile, before: '', after: 'PORT=8080\nHOST=0.0.0.0\n' }]);
    expect(existsSync(envFile)).toBe(false);

    const apply = await plinthJson(args, { cwd: example });
    expect(apply.code, apply.stderr).toBe(0);
    expect(statuses(apply.events)).toEqual(["the app's environment=changed"]);
    expect(await fs.readFile(envFile, 'utf8')).toBe('PORT=8080\nHOST=0.0.0.0\n');

    const again = await plinthJson(args, { cwd: example });
    expect(recapOf(again.events).localhost).toMatchObject({ changed: 0, failed: 0 });
    const checkAgain = await plinthJson([...args, '--check'], { cwd: example });
    expect(recapOf(checkAgain.events).localhost).toMatchObject({ changed: 0, failed: 0 });

    // Drift: someone edits the file; the module puts its line back and keeps theirs.
    await fs.writeFile(envFile, '# by hand\nPORT=9090\nHOST=0.0.0.0\n');
    const drift = await plinth(['run', ...args, '--diff'], { cwd: example });
    expect(drift.stdout).toContain(`set PORT in ${envFile}`);
    expect(drift.stdout).toContain('-PORT=9090\n+PORT=8080');
    expect(await fs.readFile(envFile, 'utf8')).toBe('# by hand\nPORT=8080\nHOST=0.0.0.0\n');
  });

  it('bad arguments are refused by its schema, naming file, line and field', async () => {
    const dir = await tree({
      'pb.yml': play('    - env_line:\n        path: /tmp/nowhere.env\n        values:\n          PORT: 8080\n'),
    });
    await fs.cp(path.join(example, 'library'), path.join(dir, 'library'), { recursive: true });
    const r = await plinth(['run', 'pb.yml'], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toBe('ERROR! pb.yml:8:11: env_line: values.PORT: must be string, got number\n');
  });

  it('a saved plan pins the module: apply refuses it once the module changed, and applies it unchanged', async () => {
    const dir = await tree({});
    await fs.cp(example, dir, { recursive: true });
    const args = ['-e', `env_file=${dir}/app.env`];
    expect((await plinth(['plan', 'site.yml', ...args, '-o', 'plan.json'], { cwd: dir })).code).toBe(0);
    const module = path.join(dir, 'library', 'env_line.ts');
    const original = await fs.readFile(module, 'utf8');
    await fs.writeFile(module, original.replace("description: 'KEY=value lines", "description: 'KEY=value pairs"));
    const refused = await plinth(['apply', 'plan.json', ...args], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('library/env_line.ts changed since the plan');
    expect(existsSync(path.join(dir, 'app.env'))).toBe(false);
    await fs.writeFile(module, original);
    const applied = await plinth(['apply', 'plan.json', ...args], { cwd: dir });
    expect(applied.code, applied.stderr).toBe(0);
    expect(await fs.readFile(path.join(dir, 'app.env'), 'utf8')).toBe('PORT=8080\nHOST=0.0.0.0\n');
  });

  it('is in the README verbatim, with its fixture test', async () => {
    const readme = await fs.readFile(path.join(repoRoot, 'README.md'), 'utf8');
    for (const file of ['library/env_line.ts', 'plans/env_line.test.ts', 'plans/env_line/drift.json']) {
      expect(readme, file).toContain(await fs.readFile(path.join(example, file), 'utf8'));
    }
  });
});

describe("a role's library/", () => {
  it("serves the role's tasks and the play's tasks after it; a second run changes nothing", async () => {
    const dir = await tree({
      'roles/greeter/library/greet.mjs': greetModule('greet'),
      'roles/greeter/tasks/main.yml': '- greet:\n    path: "{{ out }}/role.txt"\n    to: role\n',
      'pb.yml': `- hosts: localhost
  connection: local
  gather_facts: false
  roles: [greeter]
  tasks:
    - greet:
        path: "{{ out }}/play.txt"
`,
    });
    const args = ['pb.yml', '-e', `out=${dir}`];
    const first = await plinthJson(args, { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(statuses(first.events)).toEqual(['greet=changed', 'greet=changed']);
    expect(await fs.readFile(path.join(dir, 'role.txt'), 'utf8')).toBe('hello role\n');
    expect(await fs.readFile(path.join(dir, 'play.txt'), 'utf8')).toBe('hello world\n');
    const second = await plinthJson(args, { cwd: dir });
    expect(recapOf(second.events).localhost).toMatchObject({ changed: 0, ok: 2 });
  });

  it('is not seen by a play that does not load the role', async () => {
    const dir = await tree({
      'roles/greeter/library/greet.mjs': greetModule('greet'),
      'pb.yml': play('    - greet:\n        path: /tmp/x\n'),
    });
    const r = await plinth(['run', 'pb.yml'], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("pb.yml:5:7: unknown module 'greet'");
  });
});

describe('a library file that is not a good module', () => {
  it('is refused with every problem, naming the file', async () => {
    const dir = await tree({
      'library/greet.js': `export default { name: 'hello', schema: { type: 'object' }, observe() {}, plan() {}, aply() {} };\n`,
      'pb.yml': play('    - debug: {msg: hi}\n'),
    });
    const r = await plinth(['run', 'pb.yml'], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(
      `ERROR! library/greet.js:1:1: not a plinth module:\n` +
        "  name: must be 'greet', the file's name, which is the task key (found \"hello\")\n" +
        '  description: a one-line text is required\n' +
        '  apply: a function is required (found undefined)\n' +
        '  aply: unknown field (a module has name, description, schema, observe, plan, apply, and may have freeForm, readOnly, controllerOnly, desiredState)\n',
    );
  });

  it('a file without a default export, or that does not load, is named', async () => {
    const none = await tree({ 'library/greet.mjs': 'export const greet = 1;\n', 'pb.yml': play('    - debug: {msg: hi}\n') });
    const r1 = await plinth(['run', 'pb.yml'], { cwd: none });
    expect(r1.code).toBe(4);
    expect(r1.stderr).toContain(`ERROR! library/greet.mjs:1:1: the default export must be a module object`);
    const broken = await tree({ 'library/greet.ts': 'export default {\n  name: "greet",,\n};\n', 'pb.yml': play('    - debug: {msg: hi}\n') });
    const r2 = await plinth(['run', 'pb.yml'], { cwd: broken });
    expect(r2.code).toBe(4);
    expect(r2.stderr).toMatch(/^ERROR! library\/greet\.ts:1:1: cannot load the module: /);
  });

  it('may not take the name of a plinth module', async () => {
    const dir = await tree({ 'library/copy.mjs': greetModule('copy'), 'pb.yml': play('    - copy:\n        path: /tmp/x\n') });
    const r = await plinth(['run', 'pb.yml'], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`library/copy.mjs:1:1: module 'copy' has the name of plinth's own 'copy'`);
    const listed = await plinth(['modules'], { cwd: dir });
    expect(listed.code).toBe(4);
  });
});

describe("a user module's failures", () => {
  it("its own Error is its message; its TypeError is its bug, with the stack, not plinth's", async () => {
    const dir = await tree({
      'library/refuse.mjs': greetModule('refuse').replace('plan(observed, args) {', "plan(observed, args) {\n    throw new Error('refusing: ' + args.to);"),
      // Helpers live beside library/, as Ansible's module_utils/: every file in library/ is a module.
      'library/buggy.ts': `import { describe } from '../module_utils/helper.js';\n${greetModule('buggy').replace('plan(observed, args) {', 'plan(observed: any, args: { to: string }) {\n    return describe(observed.missing.field, args.to);')}`,
      'module_utils/helper.ts': 'export function describe(a: unknown, b: string): never {\n  throw new Error(String(a) + b);\n}\n',
      'pb.yml': play('    - refuse: {path: out.txt, to: you}\n      ignore_errors: true\n    - buggy: {path: out.txt}\n'),
    });
    const r = await plinthJson(['pb.yml'], { cwd: dir });
    expect(r.code).toBe(2);
    const [refused, buggy] = r.events.filter((e) => e.type === 'result');
    expect(refused).toMatchObject({ task: 'refuse', status: 'failed', message: 'pb.yml:5:7: refusing: you' });
    expect(buggy.status).toBe('failed');
    expect(buggy.message).toMatch(/^pb.yml:7:7: module buggy \(.*library\/buggy\.ts\) failed: TypeError: Cannot read properties of undefined \(reading 'field'\)\n\s+at /);
    expect(buggy.message).toMatch(/library\/buggy\.ts:\d+:\d+/);
    expect(buggy.message).not.toContain('a bug in plinth');
  });
});
