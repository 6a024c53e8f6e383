// The keyword table: what a block, an import or an include's `apply` hands down is seen on the
// task inside, one test per inherited keyword; keywords not allowed somewhere are refused at load.
import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { localInventory, plinth, recapOf, statuses, tempTree } from '../../helpers/cli.js';
import { engineJson } from '../../helpers/engine.js';

const read = (p: string) => fs.readFile(p, 'utf8');
const indent = (text: string, n: number) =>
  text
    .trim()
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

type Wrapper = 'block' | 'import_tasks' | 'include_tasks apply';
const WRAPPERS: Wrapper[] = ['block', 'import_tasks', 'include_tasks apply'];

/**
 * A play on h1 and h2 whose tasks are `before`, then `inner` wrapped as asked with `keywords` on
 * the wrapper, then `after`. Files: pb.yml, inner.yml (for imports and includes), inv.yml.
 */
function playWith(wrapper: Wrapper, keywords: string, inner: string, after = '', extra = ''): Record<string, string> {
  const head = `- hosts: all\n  gather_facts: false\n${extra}  tasks:\n`;
  let wrapped: string;
  if (wrapper === 'block') wrapped = `    - name: wrapper\n${indent(keywords, 6)}\n      block:\n${indent(inner, 8)}\n`;
  else if (wrapper === 'import_tasks') wrapped = `    - import_tasks: inner.yml\n${indent(keywords, 6)}\n`;
  // The include itself is tagged `always`, the Ansible idiom, so that -t selects among the included tasks.
  else wrapped = `    - include_tasks:\n        file: inner.yml\n        apply:\n${indent(keywords, 10)}\n      tags: [always]\n`;
  return {
    'pb.yml': head + wrapped + (after ? `${indent(after, 4)}\n` : ''),
    'inner.yml': `${inner.trim()}\n`,
    'inv.yml': localInventory(['h1', 'h2']),
  };
}

async function run(files: Record<string, string>, flags: string[] = []) {
  const root = await tempTree(files);
  const r = await engineJson(['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`, ...flags]);
  return { ...r, root };
}

const innerResults = (events: Record<string, any>[], host?: string) => statuses(events, host).filter((s) => s.startsWith('inner'));
const withoutIncludes = (list: string[]) => list.filter((s) => !s.startsWith('include_tasks'));

interface Case {
  keyword: string;
  keywords: string;
  inner: string;
  after?: string;
  extra?: string;
  flags?: string[];
  check(r: Awaited<ReturnType<typeof run>>): Promise<void> | void;
}

const cases: Case[] = [
  {
    keyword: 'when',
    keywords: `when: inventory_hostname == 'h2'`,
    inner: `- { name: inner, command: echo hi }`,
    check: (r) => {
      expect(innerResults(r.events, 'h1')).toEqual(['inner=skipped']);
      expect(innerResults(r.events, 'h2')).toEqual(['inner=changed']);
    },
  },
  {
    keyword: 'tags',
    keywords: `tags: [special]`,
    inner: `- { name: inner, copy: { dest: "{{ root }}/{{ inventory_hostname }}", content: tagged } }`,
    after: `- { name: untagged, command: echo no }`,
    flags: ['-t', 'special'],
    check: async (r) => {
      expect(withoutIncludes(statuses(r.events, 'h1'))).toEqual(['inner=changed']);
      expect(await read(path.join(r.root, 'h1'))).toBe('tagged');
    },
  },
  {
    keyword: 'vars',
    keywords: `vars: { greeting: hello }`,
    inner: `- { name: inner, copy: { dest: "{{ root }}/{{ inventory_hostname }}", content: "{{ greeting }}" } }`,
    check: async (r) => expect(await read(path.join(r.root, 'h2'))).toBe('hello'),
  },
  {
    keyword: 'environment',
    keywords: `environment: { GREETING: from-env }`,
    inner: `- { name: inner, shell: 'printf %s "$GREETING" > {{ root }}/{{ inventory_hostname }}' }`,
    check: async (r) => expect(await read(path.join(r.root, 'h1'))).toBe('from-env'),
  },
  {
    keyword: 'become and become_user',
    keywords: `become: true\nbecome_user: nobody`,
    inner: `- { name: inner, command: id -un, register: who }`,
    after: `- { name: record, copy: { dest: "{{ root }}/{{ inventory_hostname }}", content: "{{ who.stdout }}" } }`,
    check: async (r) => expect(await read(path.join(r.root, 'h1'))).toBe('nobody'),
  },
  {
    keyword: 'check_mode',
    keywords: `check_mode: true`,
    inner: `- { name: inner, copy: { dest: "{{ root }}/{{ inventory_hostname }}", content: x } }`,
    check: async (r) => {
      expect(innerResults(r.events)).toEqual(['inner=changed', 'inner=changed']);
      expect(r.events.filter((e) => e.task === 'inner').every((e) => e.predicted)).toBe(true);
      await expect(fs.stat(path.join(r.root, 'h1'))).rejects.toThrow();
    },
  },
  {
    keyword: 'run_once',
    keywords: `run_once: true`,
    inner: `- { name: inner, command: echo once }`,
    check: (r) => {
      expect(innerResults(r.events, 'h1')).toEqual(['inner=changed']);
      expect(innerResults(r.events, 'h2')).toEqual([]);
    },
  },
  {
    keyword: 'delegate_to',
    // h3 is reachable only over ssh on a closed port: a task that runs there is unreachable.
    keywords: `delegate_to: h3`,
    inner: `- { name: inner, command: echo delegated }`,
    extra: '',
    check: (r) => {
      expect(innerResults(r.events, 'h1')).toEqual(['inner=unreachable']);
      expect(r.events.find((e) => e.task === 'inner' && e.host === 'h1')!.message).toMatch(/127\.0\.0\.1|h3|refused/i);
    },
  },
  {
    keyword: 'ignore_errors',
    keywords: `ignore_errors: true`,
    inner: `- { name: inner, command: "false" }`,
    after: `- { name: next, command: echo next }`,
    check: (r) => {
      expect(r.code).toBe(0);
      expect(withoutIncludes(statuses(r.events, 'h1'))).toEqual(['inner=failed', 'next=changed']);
      expect(r.events.find((e) => e.task === 'inner')!.ignored).toBe(true);
    },
  },
  {
    keyword: 'any_errors_fatal',
    keywords: `any_errors_fatal: true`,
    inner: `- { name: inner, command: echo x, failed_when: "inventory_hostname == 'h1'" }`,
    after: `- { name: next, command: echo next }`,
    check: (r) => {
      expect(r.code).toBe(2);
      expect(withoutIncludes(statuses(r.events, 'h2'))).toEqual(['inner=changed']);
    },
  },
  {
    keyword: 'timeout',
    keywords: `timeout: 1`,
    inner: `- { name: inner, command: sleep 60 }`,
    check: (r) => {
      expect(innerResults(r.events, 'h1')).toEqual(['inner=failed']);
      expect(r.events.find((e) => e.task === 'inner')!.message).toMatch(/timed out after 1 s/);
    },
  },
  {
    keyword: 'no_log',
    keywords: `no_log: true`,
    inner: `- { name: inner, command: "echo {{ token_value }}" }`,
    extra: `  vars: { token_value: visible-value-93 }\n`,
    flags: ['-vvv'],
    check: (r) => {
      expect(innerResults(r.events)).toEqual(['inner=changed', 'inner=changed']);
      expect(r.stdout + r.stderr).not.toContain('visible-value-93');
    },
  },
];

describe.each(WRAPPERS)('a keyword on %s reaches the task inside', (wrapper) => {
  for (const c of cases) {
    it(c.keyword, async () => {
      const files = playWith(wrapper, c.keywords, c.inner, c.after, c.extra);
      if (c.keyword === 'delegate_to') files['inv.yml'] += '    h3:\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n      ansible_user: nobody\n';
      await c.check(await run(files, c.flags));
    });
  }
});

// notify needs a handler section and diff the plain output: their own tests.
describe('notify and diff handed down', () => {
  for (const wrapper of WRAPPERS) {
    it(`notify on ${wrapper}`, async () => {
      const files = playWith(wrapper, 'notify: note it', `- { name: inner, copy: { dest: "{{ root }}/{{ inventory_hostname }}", content: x } }`);
      files['pb.yml'] += `  handlers:\n    - { name: note it, copy: { dest: "{{ root }}/{{ inventory_hostname }}.handled", content: y } }\n`;
      const r = await run(files);
      expect(r.code).toBe(0);
      expect(await read(path.join(r.root, 'h1.handled'))).toBe('y');
    });

    it(`diff on ${wrapper}: true shows the diff without --diff; false hides it with --diff`, async () => {
      const inner = `- { name: inner, copy: { dest: "{{ root }}/{{ inventory_hostname }}", content: "diffed-content\\n" } }`;
      const shown = await tempTree(playWith(wrapper, 'diff: true', inner));
      const a = await plinth(['run', '-i', path.join(shown, 'inv.yml'), path.join(shown, 'pb.yml'), '-e', `root=${shown}`, '-l', 'h1']);
      expect(a.code).toBe(0);
      expect(a.stdout).toContain('+diffed-content');
      const hidden = await tempTree(playWith(wrapper, 'diff: false', inner));
      const b = await plinth(['run', '--diff', '-i', path.join(hidden, 'inv.yml'), path.join(hidden, 'pb.yml'), '-e', `root=${hidden}`, '-l', 'h1']);
      expect(b.code).toBe(0);
      expect(b.stdout).not.toContain('diffed-content');
      // A control: without the keyword, --diff shows it.
      const plain = await tempTree(playWith(wrapper, 'vars: {}', inner));
      const c = await plinth(['run', '--diff', '-i', path.join(plain, 'inv.yml'), path.join(plain, 'pb.yml'), '-e', `root=${plain}`, '-l', 'h1']);
      expect(c.stdout).toContain('+diffed-content');
    });
  }
});

describe('keywords the task inside overrides, and the play hands down', () => {
  it('the closest value wins: a task says become: false inside a become block', async () => {
    const r = await run(
      playWith(
        'block',
        'become: true\nbecome_user: nobody',
        `- { name: inner, command: id -un, register: who, become: false }`,
        `- { name: record, copy: { dest: "{{ root }}/{{ inventory_hostname }}", content: "{{ who.stdout }}" } }`,
      ),
    );
    expect(await read(path.join(r.root, 'h1'))).toBe('root');
  });

  it('when conditions of nested blocks and the task all hold', async () => {
    const r = await run({
      'inv.yml': localInventory(['h1', 'h2']),
      'pb.yml': `- hosts: all
  gather_facts: false
  tasks:
    - when: inventory_hostname != 'h3'
      block:
        - when: inventory_hostname == 'h2'
          block:
            - { name: inner, command: echo x, when: "1 == 1" }
`,
    });
    expect(statuses(r.events)).toEqual(['inner=skipped', 'inner=changed']);
  });

  it('play-level no_log and check_mode reach every task', async () => {
    const r = await run(
      {
        'inv.yml': localInventory(['h1']),
        'pb.yml': `- hosts: all
  gather_facts: false
  no_log: true
  check_mode: true
  vars: { token_value: play-level-hidden-7 }
  tasks:
    - { name: inner, copy: { dest: "{{ root }}/out", content: "{{ token_value }}" } }
`,
      },
      ['-vvv', '--diff'],
    );
    expect(statuses(r.events)).toEqual(['inner=changed']);
    expect(r.stdout + r.stderr).not.toContain('play-level-hidden-7');
    await expect(fs.stat(path.join(r.root, 'out'))).rejects.toThrow();
  });

  it('a flag written as an expression is rendered per host', async () => {
    const r = await run(playWith('block', `check_mode: "{{ inventory_hostname == 'h1' }}"`, `- { name: inner, copy: { dest: "{{ root }}/{{ inventory_hostname }}", content: x } }`));
    await expect(fs.stat(path.join(r.root, 'h1'))).rejects.toThrow();
    expect(await read(path.join(r.root, 'h2'))).toBe('x');
  });
});

describe('no_log on a block: the value appears in no output form', () => {
  const SECRET = 'plain-looking-value-5521';
  const playbook = (noLog: boolean) => `- hosts: h1
  gather_facts: false
  tasks:
    - name: secret work
${noLog ? '      no_log: true\n' : ''}      block:
        - name: write it
          copy: { dest: "{{ root }}/conf", content: "value={{ token_value }}\\n" }
        - name: echo it
          command: "echo {{ token_value }}"
          register: echoed
        - name: show it
          debug: { msg: "{{ token_value }}" }
        - name: fail with it
          command: "sh -c 'echo {{ token_value }} >&2; exit 3'"
          ignore_errors: true
        - name: loop with it
          command: "echo {{ item }}"
          loop: ["{{ token_value }}"]
`;

  async function allOutputs(noLog: boolean): Promise<string> {
    const root = await tempTree({ 'pb.yml': playbook(noLog), 'inv.yml': localInventory(['h1']) });
    const args = ['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`, '-e', `token_value=${SECRET}`];
    const plain = await plinth(['run', '-vvv', '--diff', ...args]);
    const json = await plinth(['run', '--json', '-vvv', '--diff', ...args]);
    await fs.rm(path.join(root, 'conf'));
    const plan = await plinth(['plan', '--diff', '-vvv', '-o', path.join(root, 'plan.json'), '--report', path.join(root, 'plan.md'), ...args]);
    expect(plan.code).toBe(0);
    return [plain.stdout, plain.stderr, json.stdout, json.stderr, plan.stdout, plan.stderr, await read(path.join(root, 'plan.md')), await read(path.join(root, 'plan.json'))].join('\n');
  }

  it('plain, --json, -vvv, the plan and its Markdown report hold no trace of it', async () => {
    const out = await allOutputs(true);
    expect(out).not.toContain(SECRET);
    expect(out).toContain('no_log');
  });

  it('control: without no_log the same value is printed (the test can fail)', async () => {
    expect(await allOutputs(false)).toContain(SECRET);
  });
});

describe('where a keyword may be written', () => {
  const cases: [string, string, string][] = [
    [
      'loop on a block',
      `- hosts: all\n  tasks:\n    - name: b\n      loop: [1, 2]\n      block:\n        - command: echo x\n`,
      "pb.yml:4:7: 'loop' is not allowed on a block: loop over the tasks inside, or over an include_tasks of a file with these tasks",
    ],
    ['with_items on a block', `- hosts: all\n  tasks:\n    - block:\n        - command: echo x\n      with_items: [1]\n`, "pb.yml:5:7: 'with_items' is not allowed on a block"],
    ['register on a block', `- hosts: all\n  tasks:\n    - block:\n        - command: echo x\n      register: r\n`, "pb.yml:5:7: 'register' is not allowed on a block: register on the tasks inside"],
    ['listen on a task', `- hosts: all\n  tasks:\n    - command: echo x\n      listen: t\n`, "pb.yml:4:7: 'listen' is not allowed on a task"],
    [
      'loop on import_tasks',
      `- hosts: all\n  tasks:\n    - import_tasks: inner.yml\n      loop: [1]\n`,
      "pb.yml:4:7: 'loop' is not allowed on import_tasks: loop over the tasks inside, or over an include_tasks of a file with these tasks",
    ],
    ['two loops on a task', `- hosts: all\n  tasks:\n    - command: echo x\n      loop: [1]\n      with_items: [2]\n`, "pb.yml:5:7: one loop per task: 'loop' and 'with_items' are both written"],
    [
      'a flag that is not a boolean',
      `- hosts: all\n  tasks:\n    - command: echo x\n      no_log: maybe\n`,
      'pb.yml:4:15: no_log: must be a boolean (true/false, yes/no) or an expression "{{ ... }}", got \'maybe\'',
    ],
    ['a play keyword on a task', `- hosts: all\n  tasks:\n    - command: echo x\n      gather_facts: false\n`, "pb.yml:4:7: 'gather_facts' is not allowed on a task"],
  ];
  for (const [what, pb, message] of cases) {
    it(`${what} is refused at load, with file:line:col`, async () => {
      const root = await tempTree({ 'pb.yml': pb, 'inner.yml': '- command: echo x\n' });
      const r = await plinth(['run', path.join(root, 'pb.yml')]);
      expect(r.stderr).toBe(`ERROR! ${message}\n`);
      expect(r.code).toBe(4);
    });
  }
});

describe('recap sanity for inherited ignore_errors', () => {
  it('counts the ignored failure as ignored', async () => {
    const r = await run(playWith('block', 'ignore_errors: true', `- { name: inner, command: "false" }`));
    expect(recapOf(r.events).h1).toMatchObject({ failed: 0, ignored: 1 });
  });
});

describe('a role hands down the keywords written on it', () => {
  const role = {
    'roles/r/tasks/main.yml':
      '- { name: inner, command: id -un, register: who }\n- { name: record, copy: { dest: "{{ root }}/{{ inventory_hostname }}", content: "{{ who.stdout }}" }, become: false }\n',
  };

  it('on a roles: entry, an import_role and (through apply) an include_role', async () => {
    for (const tasks of [
      `  roles:\n    - { role: r, become: true, become_user: nobody, when: "inventory_hostname == 'h1'" }\n`,
      `  tasks:\n    - import_role: { name: r }\n      become: true\n      become_user: nobody\n      when: inventory_hostname == 'h1'\n`,
      `  tasks:\n    - include_role:\n        name: r\n        apply: { become: true, become_user: nobody }\n      when: inventory_hostname == 'h1'\n`,
    ]) {
      const r = await run({ 'inv.yml': localInventory(['h1', 'h2']), 'pb.yml': `- hosts: all\n  gather_facts: false\n${tasks}`, ...role });
      expect(r.code).toBe(0);
      expect(await read(path.join(r.root, 'h1'))).toBe('nobody');
      await expect(fs.stat(path.join(r.root, 'h2'))).rejects.toThrow();
    }
  });
});

describe('connection: local', () => {
  // The inventory points at a port where nothing listens: only a task run on the controller succeeds.
  const inventory = 'all:\n  hosts:\n    far: { ansible_host: 127.0.0.9, ansible_port: 1, ansible_user: nobody }\n';
  const task = '- copy: { dest: "{{ root }}/{{ inventory_hostname }}-{{ ansible_facts.hostname }}", content: "{{ who }}" }\n';

  it("on a play runs its tasks and gathers its facts on the controller, with the host's own variables", async () => {
    const pb = `- hosts: far\n  connection: local\n  vars: { who: "{{ inventory_hostname }}" }\n  tasks:\n${indent(task, 4)}\n`;
    const r = await run({ 'inv.yml': inventory, 'pb.yml': pb });
    expect(r.code).toBe(0);
    const written = await fs.readdir(r.root);
    expect(written).toContain(`far-${os.hostname()}`);
    expect(await read(path.join(r.root, `far-${os.hostname()}`))).toBe('far');
  });

  it('on a task overrides the play; without it the same host is unreachable', async () => {
    const pb = `- hosts: far\n  gather_facts: false\n  vars: { who: x }\n  tasks:\n    - copy: { dest: "{{ root }}/local", content: ok }\n      connection: local\n    - ping:\n`;
    const r = await run({ 'inv.yml': inventory, 'pb.yml': pb });
    expect(await read(path.join(r.root, 'local'))).toBe('ok');
    expect(recapOf(r.events).far).toMatchObject({ changed: 1, unreachable: 1 });
  });

  it('refuses a connection plinth does not know', async () => {
    const r = await run({ 'inv.yml': inventory, 'pb.yml': '- hosts: far\n  gather_facts: false\n  connection: winrm\n  tasks:\n    - ping:\n' });
    expect(r.code).not.toBe(0);
    expect(JSON.stringify(r.events)).toContain("connection: 'winrm' is not supported");
  });
});
