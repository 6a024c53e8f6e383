// Plays, roles and task keywords, run by the engine in this process with the local connection on
// temp dirs (the CLI's own output: --list-tasks and the plain report, through the CLI).
import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fixtures, localInventory, plinth, recapOf, repoRoot, statuses, tempTree } from '../../helpers/cli.js';
import { engineJson } from '../../helpers/engine.js';
import { SourceError } from '../../../engine/load/yaml.js';

const read = (p: string) => fs.readFile(p, 'utf8');

/** Writes pb.yml (and inv.yml for two local hosts h1, h2) to a temp dir and runs it with root=<dir>. */
async function runPlay(playbook: string, flags: string[] = [], files: Record<string, string> = {}) {
  const root = await tempTree({ 'pb.yml': playbook, 'inv.yml': localInventory(['h1', 'h2']), ...files });
  const r = await engineJson(['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`, ...flags]);
  return { ...r, root };
}

describe('roles', () => {
  const dir = path.join(fixtures, 'roles');

  it('runs dependencies first, renders role templates with defaults and params, runs role handlers', async () => {
    const root = await tempTree();
    const r = await engineJson([path.join(dir, 'site.yml'), '-e', `root=${root}`]);
    expect(r.code).toBe(0);
    expect(statuses(r.events)).toEqual(['base writes its file=changed', 'app config=changed', 'base changed=changed', 'restart app=changed']);
    expect(r.events[1].file).toBe(`${path.relative(repoRoot, dir)}/roles/app/tasks/main.yml:1`);
    expect(await read(path.join(root, 'base.txt'))).toBe('base default\n');
    expect(await read(path.join(root, 'app.conf'))).toBe('name = app\nport = 8080\nmode = safe\n');
    expect(await read(path.join(root, 'handlers.log'))).toBe('base\nrestart 8080\n');
    const again = await engineJson([path.join(dir, 'site.yml'), '-e', `root=${root}`]);
    expect(statuses(again.events)).toEqual(['base writes its file=ok', 'app config=ok']);
  });

  it("play and role tags reach the role's tasks and its dependencies", async () => {
    const list = async (...flags: string[]) => {
      const r = await plinth(['run', path.join(dir, 'tagged.yml'), '--list-tasks', ...flags]);
      expect(r.code).toBe(0);
      return r.stdout
        .split('\n')
        .filter((l) => l.startsWith('    '))
        .map((l) => l.trim().split('\t')[0]);
    };
    expect(await list()).toEqual(['base writes its file', 'app config', 'own']);
    expect(await list('-t', 'apptag')).toEqual(['base writes its file', 'app config']);
    expect(await list('--skip-tags', 'apptag')).toEqual(['own']);
    expect(await list('-t', 'playtag')).toEqual(['base writes its file', 'app config', 'own']);
  });

  const argumentCases: [string, string, number][] = [
    ['missing.yml', "role app: missing required argument 'app_port'", 7],
    ['bad-type.yml', `role app: argument 'app_port' must be of type int, got "eighty"`, 7],
    ['bad-choice.yml', "role app: argument 'app_mode' must be one of: fast, safe", 13],
  ];
  for (const [file, message, line] of argumentCases) {
    it(`validates the argument spec: ${file}`, async () => {
      const root = await tempTree();
      const r = await engineJson([path.join(dir, file), '-e', `root=${root}`]);
      expect(r.code).toBe(2);
      const failed = r.events.find((e) => e.status === 'failed')!;
      expect(failed.task).toBe('validate arguments of role app');
      expect(failed.file).toBe(`${path.relative(repoRoot, dir)}/roles/app/meta/main.yml:${line}`);
      expect(failed.message).toBe(`${path.relative(repoRoot, dir)}/roles/app/meta/main.yml:${line}:7: ${message}`);
      // The dependency ran; the role's own tasks did not; the handler owed for base's change still runs (force_handlers).
      expect(statuses(r.events)).toEqual(['base writes its file=changed', 'validate arguments of role app=failed', 'base changed=changed']);
      await expect(fs.stat(path.join(root, 'app.conf'))).rejects.toThrow();
    });
  }
});

describe('task keywords', () => {
  it('loop with loop_control.loop_var and index_var, and the registered results list', async () => {
    const r = await runPlay(`- hosts: h1
  gather_facts: false
  vars:
    users: [ann, bob]
  tasks:
    - name: loop
      copy: { dest: "{{ root }}/{{ u }}", content: "{{ u }}:{{ i }}\\n" }
      loop: "{{ users }}"
      loop_control: { loop_var: u, index_var: i }
      register: looped
    - name: summary
      copy: { dest: "{{ root }}/summary", content: "{{ looped.results.map(r => r.u + '=' + r.changed).join(',') }}" }
`);
    expect(r.code).toBe(0);
    expect(await read(path.join(r.root, 'ann'))).toBe('ann:0\n');
    expect(await read(path.join(r.root, 'bob'))).toBe('bob:1\n');
    expect(await read(path.join(r.root, 'summary'))).toBe('ann=true,bob=true');
  });

  it('when: skips per host; a list of conditions must all hold', async () => {
    const r = await runPlay(`- hosts: all
  gather_facts: false
  tasks:
    - name: only h2
      command: echo hi
      when: inventory_hostname == 'h2'
    - name: both conditions
      command: echo hi
      when: ["inventory_hostname == 'h1'", "1 + 1 == 3"]
    - name: boolean
      command: echo hi
      when: true
`);
    expect(r.code).toBe(0);
    expect(statuses(r.events, 'h1')).toEqual(['only h2=skipped', 'both conditions=skipped', 'boolean=changed']);
    expect(statuses(r.events, 'h2')).toEqual(['only h2=changed', 'both conditions=skipped', 'boolean=changed']);
  });

  it('register keeps rc, stdout and stdout_lines', async () => {
    const r = await runPlay(`- hosts: h1
  gather_facts: false
  tasks:
    - shell: printf 'a\\nb\\n'; exit 0
      register: out
    - copy: { dest: "{{ root }}/out.json", content: "{{ JSON.stringify([out.rc, out.stdout, out.stdout_lines, out.changed]) }}" }
`);
    expect(r.code).toBe(0);
    expect(JSON.parse(await read(path.join(r.root, 'out.json')))).toEqual([0, 'a\nb', ['a', 'b'], true]);
  });

  it('become with become_user nobody runs the command as nobody', async () => {
    const r = await runPlay(`- hosts: h1
  gather_facts: false
  tasks:
    - command: id -un
      become: true
      become_user: nobody
      register: who
    - command: id -un
      register: me
    - copy: { dest: "{{ root }}/who", content: "{{ who.stdout }} {{ me.stdout }}" }
`);
    expect(r.code).toBe(0);
    expect(await read(path.join(r.root, 'who'))).toBe('nobody root');
  });

  it('become set on a play applies to its tasks', async () => {
    const r = await runPlay(`- hosts: h1
  gather_facts: false
  become: true
  become_user: nobody
  tasks:
    - command: id -un
      register: who
    - copy: { dest: "{{ root }}/who", content: "{{ who.stdout }}" }
      become: false
`);
    expect(r.code).toBe(0);
    expect(await read(path.join(r.root, 'who'))).toBe('nobody');
  });

  it("delegate_to localhost runs on the controller for each host, with the host's variables", async () => {
    const r = await runPlay(`- hosts: all
  gather_facts: false
  tasks:
    - shell: echo "{{ inventory_hostname }}" >> "{{ root }}/delegated"
      delegate_to: localhost
`);
    expect(r.code).toBe(0);
    expect((await read(path.join(r.root, 'delegated'))).split('\n').sort()).toEqual(['', 'h1', 'h2']);
    expect(Object.keys(recapOf(r.events))).toEqual(['h1', 'h2']);
  });

  it('run_once runs on the first host and shares the registered result', async () => {
    const r = await runPlay(`- hosts: all
  gather_facts: false
  tasks:
    - name: once
      shell: echo "ran on {{ inventory_hostname }}" >> "{{ root }}/once"; echo token-{{ inventory_hostname }}
      run_once: true
      register: once
    - copy: { dest: "{{ root }}/{{ inventory_hostname }}.seen", content: "{{ once.stdout }}" }
`);
    expect(r.code).toBe(0);
    expect(statuses(r.events).filter((s) => s.startsWith('once='))).toEqual(['once=changed']);
    expect(await read(path.join(r.root, 'once'))).toBe('ran on h1\n');
    expect(await read(path.join(r.root, 'h1.seen'))).toBe('token-h1');
    expect(await read(path.join(r.root, 'h2.seen'))).toBe('token-h1');
  });

  it('changed_when and failed_when decide the status from the result', async () => {
    const r = await runPlay(`- hosts: h1
  gather_facts: false
  tasks:
    - name: never changed
      command: echo x
      changed_when: false
    - name: changed by output
      command: echo changed-now
      register: c
      changed_when: "c.stdout.includes('changed')"
    - name: not failed despite rc
      command: sh -c 'exit 3'
      failed_when: result.rc > 5
    - name: failed by output
      command: echo ERROR
      failed_when: "'ERROR' == result.stdout"
      ignore_errors: true
    - name: after
      command: echo after
`);
    expect(r.code).toBe(0);
    expect(statuses(r.events)).toEqual(['never changed=ok', 'changed by output=changed', 'not failed despite rc=changed', 'failed by output=failed', 'after=changed']);
    expect(r.events[3]).toMatchObject({ ignored: true, message: 'failed_when condition matched' });
    expect(recapOf(r.events).h1).toMatchObject({ ok: 1, changed: 3, failed: 0, ignored: 1 });
  });

  it('a failed host leaves the play, the others go on; ignore_errors keeps it in', async () => {
    const r = await runPlay(`- hosts: all
  gather_facts: false
  tasks:
    - name: fails on h1
      command: "{{ inventory_hostname == 'h1' ? 'false' : 'true' }}"
    - name: ignored
      command: "false"
      ignore_errors: true
    - name: last
      command: echo last
`);
    expect(r.code).toBe(2);
    expect(statuses(r.events, 'h1')).toEqual(['fails on h1=failed']);
    expect(statuses(r.events, 'h2')).toEqual(['fails on h1=changed', 'ignored=failed', 'last=changed']);
    expect(recapOf(r.events)).toMatchObject({ h1: { failed: 1 }, h2: { failed: 0, ignored: 1, changed: 2 } });
  });

  it('no_log hides output, results and diffs in plain, -v and --json output', async () => {
    const pb = `- hosts: h1
  gather_facts: false
  tasks:
    - name: secret ok
      shell: echo sekrit-one
      no_log: true
    - name: secret file
      copy: { dest: "{{ root }}/s", content: "sekrit-two" }
      no_log: true
    - name: secret failure
      shell: echo sekrit-three; exit 4
      no_log: true
`;
    const json = await runPlay(pb, ['-v', '-D']);
    expect(json.code).toBe(2);
    expect(json.stdout + json.stderr).not.toMatch(/sekrit/);
    expect(statuses(json.events)).toEqual(['secret ok=changed', 'secret file=changed', 'secret failure=failed']);
    expect(json.events[2].message).toBe('the output has been hidden because no_log is set for this task');
    const plain = await plinth(['run', '-i', path.join(json.root, 'inv.yml'), path.join(json.root, 'pb.yml'), '-e', `root=${json.root}`, '-v', '-D']);
    expect(plain.code).toBe(2);
    expect(plain.stdout).toContain('fatal: [h1] => the output has been hidden because no_log is set for this task');
    expect(plain.stdout + plain.stderr).not.toMatch(/sekrit/);
  });

  it('environment on the play, a block and a task reaches the commands (task wins)', async () => {
    const r = await runPlay(`- hosts: h1
  gather_facts: false
  environment: { FROM_PLAY: play, WHO: play }
  vars: { v: rendered }
  tasks:
    - block:
        - shell: echo "$FROM_PLAY $FROM_BLOCK $WHO $RENDERED" > "{{ root }}/env"
          environment: { WHO: task, RENDERED: "{{ v }}" }
      environment: { FROM_BLOCK: block, WHO: block }
    - shell: echo "[$FROM_BLOCK]" > "{{ root }}/env2"
`);
    expect(r.code).toBe(0);
    expect(await read(path.join(r.root, 'env'))).toBe('play block task rendered\n');
    expect(await read(path.join(r.root, 'env2'))).toBe('[]\n');
  });

  it('tags on a task select it', async () => {
    const r = await runPlay(
      `- hosts: h1
  gather_facts: false
  tasks:
    - { name: a, command: echo a, tags: [one] }
    - { name: b, command: echo b, tags: two }
`,
      ['-t', 'two'],
    );
    expect(statuses(r.events)).toEqual(['b=changed']);
  });
});

describe('block / rescue / always', () => {
  it('rescue runs on failure, always runs regardless; the host is rescued and goes on', async () => {
    const r = await runPlay(`- hosts: all
  gather_facts: false
  tasks:
    - name: the block
      block:
        - name: maybe fail
          command: "{{ inventory_hostname == 'h1' ? 'false' : 'true' }}"
        - name: after failure
          command: echo not on h1
      rescue:
        - name: rescue
          shell: echo rescued >> "{{ root }}/{{ inventory_hostname }}"
      always:
        - name: always
          shell: echo always >> "{{ root }}/{{ inventory_hostname }}"
    - name: next
      command: echo next
`);
    expect(r.code).toBe(0);
    expect(statuses(r.events, 'h1')).toEqual(['maybe fail=failed', 'rescue=changed', 'always=changed', 'next=changed']);
    expect(statuses(r.events, 'h2')).toEqual(['maybe fail=changed', 'after failure=changed', 'always=changed', 'next=changed']);
    expect(await read(path.join(r.root, 'h1'))).toBe('rescued\nalways\n');
    expect(await read(path.join(r.root, 'h2'))).toBe('always\n');
    expect(recapOf(r.events)).toMatchObject({ h1: { failed: 0, rescued: 1 }, h2: { failed: 0, rescued: 0 } });
  });

  it('always runs after an unrescued failure, and the host still fails', async () => {
    const r = await runPlay(`- hosts: h1
  gather_facts: false
  tasks:
    - block:
        - { name: boom, command: "false" }
      always:
        - { name: cleanup, command: echo cleanup }
    - { name: never reached, command: echo no }
`);
    expect(r.code).toBe(2);
    expect(statuses(r.events)).toEqual(['boom=failed', 'cleanup=changed']);
  });

  it('block keywords (when, become, vars) are inherited by its tasks', async () => {
    const r = await runPlay(`- hosts: all
  gather_facts: false
  tasks:
    - block:
        - command: id -un
          register: who
        - copy: { dest: "{{ root }}/{{ inventory_hostname }}", content: "{{ who.stdout }} {{ greeting }}" }
          become: false
      when: inventory_hostname == 'h2'
      become: true
      become_user: nobody
      vars:
        greeting: hello
`);
    expect(r.code).toBe(0);
    expect(statuses(r.events, 'h1').every((s) => s.endsWith('=skipped'))).toBe(true);
    expect(await read(path.join(r.root, 'h2'))).toBe('nobody hello');
  });
});

describe('handlers', () => {
  const pb = `- hosts: all
  gather_facts: false
  tasks:
    - name: first change
      copy: { dest: "{{ root }}/{{ inventory_hostname }}-a", content: "a" }
      notify: [second handler, first handler]
    - name: second change
      copy: { dest: "{{ root }}/{{ inventory_hostname }}-b", content: "b" }
      notify: first handler
    - name: unchanged
      command: echo x
      changed_when: false
      notify: third handler
    - name: marker
      shell: echo tasks-done >> "{{ root }}/{{ inventory_hostname }}.log"
      changed_when: false
  handlers:
    - name: first handler
      shell: echo first >> "{{ root }}/{{ inventory_hostname }}.log"
    - name: second handler
      shell: echo second >> "{{ root }}/{{ inventory_hostname }}.log"
    - name: third handler
      shell: echo third >> "{{ root }}/{{ inventory_hostname }}.log"
`;

  it('run once per host at the end of the play, in definition order, only when notified by a change', async () => {
    const r = await runPlay(pb);
    expect(r.code).toBe(0);
    for (const h of ['h1', 'h2']) {
      expect(await read(path.join(r.root, `${h}.log`))).toBe('tasks-done\nfirst\nsecond\n');
      expect(statuses(r.events, h)).toEqual(['first change=changed', 'second change=changed', 'unchanged=ok', 'marker=ok', 'first handler=changed', 'second handler=changed']);
    }
    expect(r.events.filter((e) => e.handler).map((e) => e.task)).toEqual(['first handler', 'first handler', 'second handler', 'second handler']);
  });

  it('are not run when the notifying tasks report ok', async () => {
    const r = await runPlay(pb);
    await fs.rm(path.join(r.root, 'h1.log'));
    await fs.rm(path.join(r.root, 'h2.log'));
    const again = await engineJson(['-i', path.join(r.root, 'inv.yml'), path.join(r.root, 'pb.yml'), '-e', `root=${r.root}`]);
    expect(again.code).toBe(0);
    expect(again.events.filter((e) => e.handler)).toEqual([]);
    expect(await read(path.join(r.root, 'h1.log'))).toBe('tasks-done\n');
  });

  it('run only on the hosts that notified them; listen names work', async () => {
    const r = await runPlay(`- hosts: all
  gather_facts: false
  tasks:
    - copy: { dest: "{{ root }}/{{ inventory_hostname }}", content: "x" }
      when: inventory_hostname == 'h2'
      notify: restart things
  handlers:
    - name: restart
      listen: restart things
      shell: echo restarted > "{{ root }}/{{ inventory_hostname }}.restarted"
`);
    expect(r.code).toBe(0);
    expect(r.events.filter((e) => e.handler).map((e) => e.host)).toEqual(['h2']);
    expect(await read(path.join(r.root, 'h2.restarted'))).toBe('restarted\n');
    await expect(fs.stat(path.join(r.root, 'h1.restarted'))).rejects.toThrow();
  });

  it('notifying a handler that does not exist is an error in the file (exit 4), with file:line, before any task runs', async () => {
    const error = await runPlay(`- hosts: all
  gather_facts: false
  tasks:
    - command: echo
      notify: nope
`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(/\/pb\.yml:4:7: notify: no handler named 'nope' in this play$/);
  });
});

describe('imported task files', () => {
  it("import_tasks and include_tasks load task files; vars and when on them apply to their tasks; an include's tags select only the include", async () => {
    const r = await runPlay(
      `- hosts: h1
  gather_facts: false
  vars: { which: play }
  tasks:
    - import_tasks: tasks/sub.yml
    - include_tasks: sub.yml
      vars: { which: task-vars }
      tags: [included]
    - import_tasks: tasks/sub.yml
      when: which == 'never'
`,
      [],
      { 'tasks/sub.yml': '- name: sub\n  shell: echo "{{ which }}" >> "{{ root }}/log"\n' },
    );
    expect(r.code).toBe(0);
    expect(statuses(r.events)).toEqual(['sub=changed', 'include_tasks sub.yml=ok', 'sub=changed', 'sub=skipped']);
    expect(await read(path.join(r.root, 'log'))).toBe('play\ntask-vars\n');
    // As in Ansible: the included tasks do not inherit the include's tags (`apply: {tags: ...}` hands them down).
    const tagged = await engineJson(['-i', path.join(r.root, 'inv.yml'), path.join(r.root, 'pb.yml'), '-e', `root=${r.root}`, '-t', 'included']);
    expect(statuses(tagged.events)).toEqual(['include_tasks sub.yml=ok']);
  });
});

describe('plays', () => {
  it('serial runs the play in batches, handlers at the end of each batch', async () => {
    const r = await runPlay(`- hosts: all
  gather_facts: false
  serial: 1
  tasks:
    - shell: echo "task {{ inventory_hostname }}" >> "{{ root }}/log"
      notify: h
  handlers:
    - name: h
      shell: echo "handler {{ inventory_hostname }}" >> "{{ root }}/log"
`);
    expect(r.code).toBe(0);
    expect(await read(path.join(r.root, 'log'))).toBe('task h1\nhandler h1\ntask h2\nhandler h2\n');
  });

  it('vars_files are read relative to the playbook', async () => {
    const r = await runPlay(
      `- hosts: h1
  gather_facts: false
  vars_files: [vars/main.yml]
  tasks:
    - copy: { dest: "{{ root }}/out", content: "{{ from_file }}" }
`,
      [],
      { 'vars/main.yml': 'from_file: yes-it-is\n' },
    );
    expect(r.code).toBe(0);
    expect(await read(path.join(r.root, 'out'))).toBe('yes-it-is');
  });

  it('a failed host leaves later plays too; import_playbook adds plays', async () => {
    const r = await runPlay(
      `- hosts: all
  gather_facts: false
  tasks:
    - command: "{{ inventory_hostname == 'h1' ? 'false' : 'true' }}"
- import_playbook: second.yml
`,
      [],
      { 'second.yml': '- name: second\n  hosts: all\n  gather_facts: false\n  tasks:\n    - { name: in second, command: echo }\n' },
    );
    expect(r.code).toBe(2);
    expect(statuses(r.events, 'h1')).toEqual(["command {{ inventory_hostname == 'h1' ? 'false' : 'true' }}=failed"]);
    expect(statuses(r.events, 'h2').at(-1)).toBe('in second=changed');
  });

  it('facts are gathered once per host and visible as ansible_* variables', async () => {
    const r = await runPlay(`- hosts: h1
  tasks:
    - copy: { dest: "{{ root }}/out", content: "{{ ansible_system }} {{ ansible_facts.user_id }} {{ facts.hostname == ansible_hostname }}" }
`);
    expect(r.code).toBe(0);
    expect(statuses(r.events)[0]).toBe('Gathering Facts=ok');
    expect(await read(path.join(r.root, 'out'))).toBe('Linux root true');
  });
});
