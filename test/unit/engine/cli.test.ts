// The `plinth run` command line: every flag, --json, exit codes, help. Real processes, real files.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fixtures, plinth, plinthJson, recapOf, repoRoot, statuses, tempTree } from '../../helpers/cli.js';

const dir = path.join(fixtures, 'cli');
const inv = path.join(dir, 'inventory.yml');
const pb = (name: string) => path.join(dir, name);

function listedHosts(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('    '))
    .map((l) => l.trim());
}

function listedTasks(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('    '))
    .map((l) => l.trim().split('\t')[0]);
}

describe('--list-hosts and -l/--limit', () => {
  it('lists every host of the play in inventory order', async () => {
    const r = await plinth(['run', '-i', inv, pb('tags.yml'), '--list-hosts']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('play: tagged play (3 hosts)\n    web1\n    web2\n    db1\n');
  });

  const cases: [string, string[]][] = [
    ['web1', ['web1']],
    ['db', ['web2', 'db1']],
    ['web*', ['web1', 'web2']],
    ['w?b1', ['web1']],
    ['!web1', ['web2', 'db1']],
    ['all:!db', ['web1']],
    ['web:&eu', ['web1']],
    ['db:&web', ['web2']],
    ['db,web1', ['web1', 'web2', 'db1']],
    ['web:db:!web2', ['web1', 'db1']],
    ['~^(web1|db1)$', ['web1', 'db1']],
  ];
  for (const [pattern, hosts] of cases) {
    it(`-l '${pattern}' selects ${hosts.join(', ') || 'no host'}`, async () => {
      const r = await plinth(['run', '-i', inv, pb('tags.yml'), '--list-hosts', '-l', pattern]);
      expect(r.code).toBe(0);
      expect(listedHosts(r.stdout)).toEqual(hosts);
    });
  }

  it('a --limit that matches no host is an error (exit 1), as in ansible-playbook', async () => {
    const r = await plinth(['run', '-i', inv, pb('tags.yml'), '-l', 'nosuchhost']);
    expect(r.stderr).toBe(`ERROR! --limit 'nosuchhost' matches no host of the inventory ${inv}\n`);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(1);
  });

  it('a play whose pattern matches no host is skipped', async () => {
    const root = await tempTree({ 'pb.yml': '- hosts: nosuchgroup\n  tasks:\n    - command: echo\n' });
    const r = await plinth(['run', '-i', inv, path.join(root, 'pb.yml')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('skipping: no hosts matched');
  });

  it('--limit runs tasks only on the selected hosts', async () => {
    const root = await tempTree();
    const r = await plinthJson(['-i', inv, pb('files.yml'), '-e', `root=${root}`, '--limit', 'web:!web2']);
    expect(r.code).toBe(0);
    expect(r.events.filter((e) => e.type === 'result').map((e) => e.host)).toEqual(['web1']);
    expect((await fs.readdir(root)).sort()).toEqual(['web1.txt']);
  });
});

describe('-t/--tags, --skip-tags and --list-tasks', () => {
  const cases: [string[], string[]][] = [
    [[], ['t-always', 't-web', 't-db', 't-untagged']],
    [
      ['-t', 'web'],
      ['t-always', 't-web', 't-db'],
    ],
    [
      ['--tags', 'db'],
      ['t-always', 't-db'],
    ],
    [
      ['-t', 'never'],
      ['t-always', 't-never'],
    ],
    [
      ['-t', 'debugonly'],
      ['t-always', 't-never'],
    ],
    [
      ['-t', 'untagged'],
      ['t-always', 't-untagged'],
    ],
    [
      ['-t', 'tagged'],
      ['t-always', 't-web', 't-db'],
    ],
    [
      ['-t', 'all'],
      ['t-always', 't-web', 't-db', 't-untagged'],
    ],
    [
      ['--skip-tags', 'web'],
      ['t-always', 't-untagged'],
    ],
    [
      ['--skip-tags', 'always'],
      ['t-web', 't-db', 't-untagged'],
    ],
    [
      ['-t', 'web', '--skip-tags', 'db'],
      ['t-always', 't-web'],
    ],
    [
      ['-t', 'db,web'],
      ['t-always', 't-web', 't-db'],
    ],
  ];
  for (const [flags, tasks] of cases) {
    it(`--list-tasks ${flags.join(' ') || '(no tags)'} lists ${tasks.join(', ')}`, async () => {
      const r = await plinth(['run', '-i', inv, pb('tags.yml'), '--list-tasks', ...flags]);
      expect(r.code).toBe(0);
      expect(listedTasks(r.stdout)).toEqual(tasks);
    });
  }

  it('--list-tasks shows file:line and tags of each task', async () => {
    const r = await plinth(['run', '-i', inv, pb('tags.yml'), '--list-tasks']);
    expect(r.stdout.split('\n')).toContain(`    t-db\t${path.relative(repoRoot, pb('tags.yml'))}:14\tTAGS: [db, web]`);
    expect(r.stdout.split('\n')).toContain(`    t-untagged\t${path.relative(repoRoot, pb('tags.yml'))}:17`);
  });

  it('tags select what actually runs, not only what is listed', async () => {
    const r = await plinthJson(['-i', inv, pb('tags.yml'), '-l', 'web1', '-t', 'db', '--skip-tags', 'always']);
    expect(r.code).toBe(0);
    expect(statuses(r.events)).toEqual(['t-db=ok']);
  });
});

describe('-e/--extra-vars', () => {
  async function greetingWith(...flags: string[]): Promise<string> {
    const root = await tempTree({ 'vars.yml': 'greeting: from-file\n', 'vars.json': '{"greeting": "from-json-file"}' });
    const r = await plinth(['run', '-i', inv, pb('files.yml'), '-l', 'web1', '-e', `root=${root}`, ...flags.map((f) => f.replace('@ROOT', `@${root}`))], { cwd: root });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return fs.readFile(path.join(root, 'web1.txt'), 'utf8');
  }

  it('play vars apply without -e', async () => expect(await greetingWith()).toBe('from-play\n'));
  it('k=v beats play vars', async () => expect(await greetingWith('-e', 'greeting=from-kv')).toBe('from-kv\n'));
  it('quoted k="v w" keeps the space', async () => expect(await greetingWith('-e', 'greeting="two words" other=1')).toBe('two words\n'));
  it('a JSON mapping beats play vars', async () => expect(await greetingWith('-e', '{"greeting": "from-json"}')).toBe('from-json\n'));
  it('@file.yml beats play vars', async () => expect(await greetingWith('-e', '@ROOT/vars.yml')).toBe('from-file\n'));
  it('@file relative to the working directory', async () => expect(await greetingWith('-e', '@vars.json')).toBe('from-json-file\n'));
  it('the last -e wins', async () => expect(await greetingWith('-e', 'greeting=first', '--extra-vars', 'greeting=second')).toBe('second\n'));

  it('JSON values keep their types', async () => {
    const root = await tempTree({
      'pb.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - copy: { dest: "{{ out }}", content: "{{ JSON.stringify([n, typeof n, list, flag]) }}" }\n',
    });
    const out = path.join(root, 'out.json');
    const r = await plinth(['run', path.join(root, 'pb.yml'), '-e', `out=${out}`, '-e', '{"n": 5, "list": [1, "a"], "flag": false}']);
    expect(r.code).toBe(0);
    expect(JSON.parse(await fs.readFile(out, 'utf8'))).toEqual([5, 'number', [1, 'a'], false]);
  });

  it('k=v values stay strings', async () => {
    const root = await tempTree({
      'pb.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - copy: { dest: "{{ out }}", content: "{{ typeof n }}" }\n',
    });
    const out = path.join(root, 'out.txt');
    expect((await plinth(['run', path.join(root, 'pb.yml'), '-e', `out=${out}`, '-e', 'n=5'])).code).toBe(0);
    expect(await fs.readFile(out, 'utf8')).toBe('string');
  });
});

describe('-f/--forks', () => {
  // Each host marks itself busy, then looks for another busy host: with -f 1 it never finds one.
  const serial = `- hosts: all
  gather_facts: false
  tasks:
    - shell: |
        touch "{{ root }}/busy.{{ inventory_hostname }}"
        sleep 0.2
        n=$(ls "{{ root }}" | grep -c '^busy\\.')
        rm "{{ root }}/busy.{{ inventory_hostname }}"
        test "$n" -eq 1
`;
  // Each host waits for every other host to arrive: only possible when they all run at once.
  const rendezvous = `- hosts: all
  gather_facts: false
  tasks:
    - shell: |
        touch "{{ root }}/here.{{ inventory_hostname }}"
        for i in $(seq 1 200); do [ "$(ls "{{ root }}" | grep -c '^here\\.')" -eq 3 ] && exit 0; sleep 0.05; done
        exit 1
`;

  it('-f 1 works on one host at a time', async () => {
    const root = await tempTree({ 'pb.yml': serial });
    const r = await plinthJson(['-i', inv, path.join(root, 'pb.yml'), '-e', `root=${root}`, '-f', '1']);
    expect(statuses(r.events)).toEqual(['shell=changed', 'shell=changed', 'shell=changed'].map((s) => s.replace('shell', r.events[0].task)));
    expect(r.code).toBe(0);
  });

  it('-f 3 works on the three hosts at once', async () => {
    const root = await tempTree({ 'pb.yml': rendezvous });
    const r = await plinthJson(['-i', inv, path.join(root, 'pb.yml'), '-e', `root=${root}`, '--forks', '3']);
    expect(r.events.filter((e) => e.type === 'result').map((e) => e.status)).toEqual(['changed', 'changed', 'changed']);
    expect(r.code).toBe(0);
  });
});

describe('--json', () => {
  it('prints one JSON object per result and a final recap, nothing else, on stdout', async () => {
    const root = await tempTree();
    const r = await plinthJson(['-i', inv, pb('files.yml'), '-e', `root=${root}`, '-l', 'web1', '--diff']);
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.events).toHaveLength(2);
    const [result, recap] = r.events;
    expect(result).toMatchObject({
      type: 'result',
      host: 'web1',
      task: 'write greeting',
      file: `${path.relative(repoRoot, pb('files.yml'))}:8`,
      module: 'copy',
      status: 'changed',
      message: null,
    });
    expect(result.diff).toEqual([{ target: path.join(root, 'web1.txt'), before: '', after: 'from-play\n' }]);
    expect(recap).toMatchObject({ type: 'recap', interrupted: false });
    expect(recap.hosts).toEqual({ web1: { ok: 0, changed: 1, failed: 0, skipped: 0, unreachable: 0, unknown: 0, ignored: 0, rescued: 0 } });
    // Human output goes to stderr.
    expect(r.stderr).toContain('PLAY RECAP');
  });

  it('reports failures with their message and the failing host in the recap', async () => {
    const r = await plinthJson(['-i', inv, pb('fail.yml')]);
    expect(r.code).toBe(2);
    const failed = r.events.find((e) => e.status === 'failed')!;
    expect(failed).toMatchObject({ host: 'web2', task: 'fail on web2', file: `${path.relative(repoRoot, pb('fail.yml'))}:5` });
    expect(failed.message).toMatch(/^\S+fail\.yml:5:\d+: .*exit (code|status) 1|rc=1|non-zero/);
    expect(statuses(r.events, 'web2')).toEqual(['fail on web2=failed']);
    expect(statuses(r.events, 'web1')).toEqual(['fail on web2=changed', 'after=changed']);
    expect(recapOf(r.events).web2).toMatchObject({ failed: 1, changed: 0 });
  });
});

describe('exit codes', () => {
  it('0 when every host is ok', async () => {
    expect((await plinth(['run', '-i', inv, pb('tags.yml')])).code).toBe(0);
  });

  it('2 when a host failed (the others finish the play)', async () => {
    const r = await plinth(['run', '-i', inv, pb('fail.yml')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^web2 +: ok=0 +changed=0 +unreachable=0 +failed=1 /m);
    expect(r.stdout).toMatch(/^db1 +: ok=2 +changed=2 +unreachable=0 +failed=0 /m);
  });

  it('3 when a host is unreachable (ssh to a closed port)', async () => {
    const root = await tempTree({
      'inv.yml': 'all:\n  hosts:\n    dead:\n      ansible_connection: ssh\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n    live:\n      ansible_connection: local\n',
      'pb.yml': '- hosts: all\n  tasks:\n    - command: echo hi\n',
    });
    const r = await plinthJson(['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml')]);
    expect(r.code).toBe(3);
    const dead = r.events.filter((e) => e.host === 'dead');
    expect(dead.map((e) => e.status)).toEqual(['unreachable']);
    expect(dead[0].message).toContain('127.0.0.1:1');
    expect(statuses(r.events, 'live')).toEqual(['Gathering Facts=ok', 'command echo hi=changed']);
    expect(recapOf(r.events).dead).toMatchObject({ unreachable: 1, failed: 0 });
  });

  it('2 wins over 3 when one host failed and another is unreachable', async () => {
    const root = await tempTree({
      'inv.yml': 'all:\n  hosts:\n    dead:\n      ansible_connection: ssh\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n    live:\n      ansible_connection: local\n',
      'pb.yml': '- hosts: all\n  tasks:\n    - command: "false"\n',
    });
    expect((await plinth(['run', '-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml')])).code).toBe(2);
  });

  it('4 on a parse error', async () => {
    const root = await tempTree({ 'pb.yml': '- hosts: all\n  tasks: [\n' });
    const r = await plinth(['run', path.join(root, 'pb.yml')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^ERROR! \S*pb\.yml:\d+:\d+: invalid YAML/);
  });

  it('4 when the playbook file does not exist', async () => {
    const r = await plinth(['run', '/nonexistent/pb.yml']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('/nonexistent/pb.yml');
  });

  const badOptions: [string, string[], RegExp][] = [
    ['an unknown flag', ['--bogus'], /unknown option '--bogus'/],
    ['-f 0', ['-f', '0'], /--forks must be a positive integer, got '0'/],
    ['-f abc', ['-f', 'abc'], /--forks must be a positive integer, got 'abc'/],
    ['-e without k=v', ['-e', 'garbage'], /--extra-vars: expected k=v pairs/],
    ['-e with a stray word after k=v', ['-e', 'a=1 junk'], /--extra-vars: expected k=v pairs.*1 word\(s\) are not k=v/],
    ['-e @missing file', ['-e', '@/nonexistent/vars.yml'], /--extra-vars: file not found: \/nonexistent\/vars\.yml/],
    ['-e with broken JSON', ['-e', '{"a": '], /--extra-vars: invalid JSON\/YAML mapping/],
    ['-e with a JSON list', ['-e', '[1, 2]'], /--extra-vars: expected/],
    ['-l with an empty pattern', ['-l', ':'], /empty host pattern/],
    ['-l with a bad regular expression', ['-l', '~['], /^ERROR! invalid regular expression in host pattern '~\[': \/\[\/: Unterminated character class\n$/],
  ];
  for (const [what, flags, message] of badOptions) {
    it(`5 on bad options: ${what}`, async () => {
      const r = await plinth(['run', '-i', inv, pb('tags.yml'), ...flags]);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
      expect(r.code).toBe(5);
    });
  }

  it('99 when interrupted: the task in flight finishes, no new task starts', async () => {
    const root = await tempTree({
      'pb.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - shell: touch {{ root }}/started; sleep 1; touch {{ root }}/finished\n    - shell: touch {{ root }}/next\n',
    });
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'plinth.js'), 'run', path.join(root, 'pb.yml'), '-e', `root=${root}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    while (!existsSync(path.join(root, 'started'))) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    expect(await exited).toBe(99);
    expect((await fs.readdir(root)).sort()).toEqual(['finished', 'pb.yml', 'started']);
    expect(stdout).toContain('Interrupted');
  });

  it('a reader that closes the pipe early (| head) does not crash the run', async () => {
    const root = await tempTree({
      'pb.yml':
        '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - shell: sleep 0.3\n    - debug: { msg: "{{ \'x\'.repeat(100000) }}" }\n    - copy: { dest: "{{ root }}/done", content: ok }\n',
    });
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'plinth.js'), 'run', path.join(root, 'pb.yml'), '-e', `root=${root}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdout.once('data', () => child.stdout.destroy());
    expect(await exited).toBe(0);
    expect(stderr).not.toContain('EPIPE');
    expect(await fs.readFile(path.join(root, 'done'), 'utf8')).toBe('ok');
  });

  it('5 when the playbook argument is missing', async () => {
    const r = await plinth(['run']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("missing required argument 'playbook'");
  });
});

describe('help', () => {
  const flags = ['--inventory', '--check', '--diff', '--limit', '--tags', '--skip-tags', '--extra-vars', '--forks', '--list-hosts', '--list-tasks', '--verbose', '--json'];
  const shortFlags = ['-i,', '-C,', '-D,', '-l,', '-t,', '-e,', '-f,', '-v,'];

  it('plinth run --help explains every flag', async () => {
    const r = await plinth(['run', '--help']);
    expect(r.code).toBe(0);
    for (const f of [...flags, ...shortFlags]) expect(r.stdout).toContain(f);
  });

  it('plinth --help names the run command and the exit codes', async () => {
    const r = await plinth(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s+run \[options\] <playbook>/m);
    expect(r.stdout).toContain('Exit codes: 0 ok, 1 error, 2 a host failed, 3 a host unreachable, 4 parse error, 5 bad options');
  });
});

describe('-v and -C/-D in plain output', () => {
  it('-v shows task paths and module results', async () => {
    const r = await plinth(['run', '-i', inv, pb('tags.yml'), '-l', 'web1', '-t', 'web', '-v']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`task path: ${path.relative(repoRoot, pb('tags.yml'))}:11`);
    expect(r.stdout).toContain('"msg": "w"');
  });

  it('without -v there are no task paths', async () => {
    const r = await plinth(['run', '-i', inv, pb('tags.yml'), '-l', 'web1']);
    expect(r.stdout).not.toContain('task path:');
  });
});

describe('--limit as Ansible users write it', () => {
  it('group[0], group[-1], group[1:2] and @retry-file (also beside other terms) pick those hosts', async () => {
    const root = await tempTree({
      'hosts.ini': '[replicas]\nr[1:4] ansible_connection=local\n',
      'pb.yml': '- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: { msg: "hi from {{ inventory_hostname }}" }\n',
      'failed.retry': 'r2\nr4\n\n',
    });
    const hostsFor = async (limit: string) => {
      const r = await plinthJson(['-i', path.join(root, 'hosts.ini'), path.join(root, 'pb.yml'), '-l', limit]);
      expect(r.code).toBe(0);
      return r.events.filter((e) => e.type === 'result').map((e) => e.host);
    };
    expect(await hostsFor('replicas[0]')).toEqual(['r1']);
    expect(await hostsFor('replicas[-1]')).toEqual(['r4']);
    expect(await hostsFor('replicas[1:2]')).toEqual(['r2', 'r3']);
    expect(await hostsFor(`@${path.join(root, 'failed.retry')}`)).toEqual(['r2', 'r4']);
    expect(await hostsFor(`@${path.join(root, 'failed.retry')},!r4,r1`)).toEqual(['r1', 'r2']);
    const missing = await plinth(['run', '-i', path.join(root, 'hosts.ini'), path.join(root, 'pb.yml'), '-l', '@/nonexistent.retry']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('--limit @/nonexistent.retry: cannot read /nonexistent.retry: ENOENT');
  });
});

describe('--json carries what register sees', () => {
  it('the module result of each task (debug msg, command stdout/rc), redacted; no_log tasks only say so', async () => {
    const root = await tempTree({
      'pb.yml': `- hosts: localhost
  gather_facts: false
  vars: { api_token: "Tok-en-98765" }
  tasks:
    - debug: { msg: "hello {{ 41 + 1 }}" }
    - command: echo out-line
      register: out
    - debug: { var: out.stdout }
    - name: prints a secret
      command: echo {{ api_token }}
    - name: hidden
      command: echo hidden-value
      no_log: true
`,
    });
    const run = await plinthJson([path.join(root, 'pb.yml')]);
    expect(run.code).toBe(0);
    const results = run.events.filter((e) => e.type === 'result');
    expect(results[0].result).toMatchObject({ msg: 'hello 42', changed: false, failed: false });
    expect(results[1].result).toMatchObject({ stdout: 'out-line', rc: 0, changed: true });
    expect(results[2].result).toMatchObject({ 'out.stdout': 'out-line' });
    expect(results[3].result).toMatchObject({ stdout: '********', rc: 0 });
    expect(results[4].result).toEqual({ censored: 'the output has been hidden because no_log is set for this task' });
    expect(run.stdout).not.toContain('hidden-value');
    expect(run.stdout).not.toContain('Tok-en-98765');
  });
});
