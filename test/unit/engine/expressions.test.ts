// {{ }} expressions: types kept, strings interpolated, variables rendered lazily in the reader's scope,
// magic variables (hostvars, groups, inventory_hostname), and undefined names as errors.
import { describe, expect, it, onTestFinished } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Scope } from '../../../engine/expr/scope.js';
import { UndefinedVariableError, ExpressionError } from '../../../engine/expr/evaluate.js';
import { renderEjs, TemplateError } from '../../../engine/expr/ejs-template.js';
import { tempTree } from '../../helpers/cli.js';
import { engineJson } from '../../helpers/engine.js';

const scope = (...layers: Record<string, unknown>[]) => new Scope(layers.map((vars, i) => ({ name: `l${i}`, vars })));

describe('Scope.render', () => {
  const s = scope({ list: [1, 2], n: 5, obj: { a: { b: 'deep' } }, name: 'pg', flag: false, nothing: null });

  it('a whole expression keeps its type', () => {
    expect(s.render('{{ list }}')).toEqual([1, 2]);
    expect(s.render('{{ n }}')).toBe(5);
    expect(s.render('{{ n + 1 }}')).toBe(6);
    expect(s.render('{{ flag }}')).toBe(false);
    expect(s.render('{{ nothing }}')).toBe(null);
    expect(s.render('{{ obj.a }}')).toEqual({ b: 'deep' });
    expect(s.render('  {{ n }} ')).toBe(5);
  });

  it('text around an expression makes a string', () => {
    expect(s.render('port {{ n }}')).toBe('port 5');
    expect(s.render('{{ name }}-{{ n }}')).toBe('pg-5');
    expect(s.render('{{ list }}!')).toBe('[1,2]!');
    expect(s.render('{{ n }}\n')).toBe('5\n');
    expect(s.render('x{{ nothing }}y')).toBe('xy');
  });

  it('renders inside lists and mappings, and leaves other values alone', () => {
    expect(s.render({ a: ['{{ n }}', 'v{{ n }}'], b: 3, c: true })).toEqual({ a: [5, 'v5'], b: 3, c: true });
    expect(s.render('no braces')).toBe('no braces');
  });

  it("variables written with expressions are rendered when read, in the reader's scope", () => {
    const defaults = { conf_dir: '{{ root }}/etc', root: '/srv' };
    expect(scope(defaults).render('{{ conf_dir }}')).toBe('/srv/etc');
    expect(scope(defaults, { root: '/opt' }).render('{{ conf_dir }}')).toBe('/opt/etc');
    // A chain, and a variable referring to its own lower-precedence value.
    expect(scope({ a: '{{ b }}-a', b: '{{ c }}-b', c: 'c' }).render('{{ a }}')).toBe('c-b-a');
    expect(scope({ path: '/usr/bin' }, { path: '{{ path }}:/opt/bin' }).render('{{ path }}')).toBe('/usr/bin:/opt/bin');
  });

  it('data layers (registered results, facts) are never rendered again', () => {
    const sc = new Scope([{ name: 'registered', vars: { out: { stdout: '{{ secret }}' } }, data: true }]);
    expect(sc.render('{{ out.stdout }}')).toBe('{{ secret }}');
  });

  it('an undefined name is an UndefinedVariableError naming it', () => {
    expect(() => s.render('{{ missing + 1 }}')).toThrow(UndefinedVariableError);
    expect(() => s.render('port {{ nope }}')).toThrow("undefined variable 'nope' in expression: nope");
    expect(() => s.evaluate('n > 1 && other')).toThrow("undefined variable 'other' in expression: n > 1 && other");
  });

  it('vars.name is undefined, not an error, for a missing name', () => {
    expect(s.render('{{ vars.port ?? 5432 }}')).toBe(5432);
    expect(s.render('{{ vars.n }}')).toBe(5);
  });

  it('JavaScript globals are available; a syntax error is an ExpressionError', () => {
    expect(s.render('{{ Math.max(...list) }}')).toBe(2);
    expect(s.render('{{ JSON.stringify(obj) }}')).toBe('{"a":{"b":"deep"}}');
    expect(() => s.render('{{ n + }}')).toThrow(ExpressionError);
  });
});

describe('EJS templates', () => {
  it('render with the variables', () => {
    expect(renderEjs('port = <%= port %>\n<% for (const h of hosts) { %>host <%= h %>\n<% } %>', { port: 5432, hosts: ['a', 'b'] })).toBe('port = 5432\nhost a\nhost b\n');
  });

  it('an undefined variable names the variable and the template line', () => {
    expect(() => renderEjs('a\nb = <%= nope %>\n', {}, '/t/x.ejs')).toThrow(TemplateError);
    expect(() => renderEjs('a\nb = <%= nope %>\n', {}, '/t/x.ejs')).toThrow(/^\/t\/x\.ejs:2: undefined variable 'nope'$/);
  });

  it('reads only the variables the template names: a broken variable elsewhere does not matter', () => {
    const s = scope({ good: 'hello', broken: '{{ undefined_name_here }}' });
    expect(renderEjs('v=<%= good %>', s.locals())).toBe('v=hello');
    expect(() => renderEjs('v=<%= broken %>', s.locals(), '/t/b.ejs')).toThrow(/undefined_name_here/);
  });

  it('a syntax error names the line where it starts', () => {
    expect(() => renderEjs('a\nb\n<%= f( %>\n', {}, '/t/y.ejs')).toThrow(/^\/t\/y\.ejs:3: syntax error: missing \) after argument list$/);
  });
});

describe('expressions in playbooks', () => {
  it('keep types, interpolate, and see hostvars, groups, inventory_hostname and registered results', async () => {
    const root = await tempTree({
      'inv.yml': `all:
  children:
    web:
      vars: { site: us }
      hosts:
        h1: { ansible_connection: local }
        h2: { ansible_connection: local, site: eu }
    db:
      hosts:
        h3: { ansible_connection: local }
`,
      'pb.yml': `- hosts: web
  gather_facts: false
  vars:
    conf_dir: "/srv/{{ site }}/{{ inventory_hostname }}"
    ports: [5432, 5433]
    first_port: "{{ ports[0] }}"
    all_ports: "{{ ports }}"
    label: "port-{{ first_port }}"
  tasks:
    - command: echo out-{{ inventory_hostname }}
      register: echoed
    - copy:
        dest: "{{ root }}/{{ inventory_hostname }}.json"
        content: "{{ JSON.stringify({ conf_dir, first_port, type: typeof first_port, all_ports, is_list: Array.isArray(all_ports), label, web: groups.web, db: groups['db'], h2_conf: hostvars['h2'].conf_dir, h2_site: hostvars.h2.site, echoed: echoed.stdout, rc: echoed.rc, group_names }) }}"
`,
    });
    const r = await engineJson(['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`]);
    expect(r.code, r.stderr).toBe(0);
    const h1 = JSON.parse(await fs.readFile(path.join(root, 'h1.json'), 'utf8'));
    expect(h1).toEqual({
      conf_dir: '/srv/us/h1',
      first_port: 5432,
      type: 'number',
      all_ports: [5432, 5433],
      is_list: true,
      label: 'port-5432',
      web: ['h1', 'h2'],
      db: ['h3'],
      h2_conf: '/srv/eu/h2',
      h2_site: 'eu',
      echoed: 'out-h1',
      rc: 0,
      group_names: ['web'],
    });
    const h2 = JSON.parse(await fs.readFile(path.join(root, 'h2.json'), 'utf8'));
    expect(h2.conf_dir).toBe('/srv/eu/h2');
    expect(h2.echoed).toBe('out-h2');
  });

  it('a loop over an expression that gives a list, and module arguments that stay typed', async () => {
    const root = await tempTree({
      'pb.yml': `- hosts: localhost
  gather_facts: false
  vars:
    names: "{{ ['a', 'b'].map(x => x + '1') }}"
    force_it: "{{ 1 == 1 }}"
  tasks:
    - copy: { dest: "{{ root }}/{{ item }}", content: "{{ item }}", force: "{{ force_it }}" }
      loop: "{{ names }}"
`,
    });
    const r = await engineJson([path.join(root, 'pb.yml'), '-e', `root=${root}`]);
    expect(r.code, r.stderr).toBe(0);
    expect((await fs.readdir(root)).sort()).toEqual(['a1', 'b1', 'pb.yml']);
  });

  it('an undefined variable in play vars names the variable and the task file:line', async () => {
    const root = await tempTree({
      'pb.yml': `- hosts: localhost
  gather_facts: false
  vars:
    conf: "{{ undefined_root }}/etc"
  tasks:
    - name: uses conf
      debug: { msg: "{{ conf }}" }
`,
    });
    const r = await engineJson([path.join(root, 'pb.yml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`fatal: [localhost] => ${root}/pb.yml:6:7: undefined variable 'undefined_root' in expression: undefined_root\n`);
  });
});

describe('lookup and query, as Ansible writes them', () => {
  it('read the environment, files (role first), commands, globs and passwords on the controller', async () => {
    const root = await tempTree({
      'inv.yml': 'all:\n  hosts:\n    h1: { ansible_connection: local }\n',
      'files/motd.txt': 'from the playbook\n',
      'roles/r/files/motd.txt': 'from the role\n',
      'conf.d/a.conf': 'a',
      'conf.d/b.conf': 'b',
      'roles/r/tasks/main.yml': `- copy:
    dest: "{{ root }}/out.json"
    content: "{{ JSON.stringify({ home: lookup('env', 'PLINTH_LOOKUP_TEST'), unset: lookup('env', 'PLINTH_NOT_SET', { default: 'dflt' }), motd: lookup('file', 'motd.txt'), pipe: lookup('pipe', 'echo piped'), lines: query('lines', 'printf \\"x\\\\ny\\\\n\\"'), globbed: query('fileglob', 'conf.d/*.conf').map((f) => f.split('/').pop()), first: lookup('first_found', ['nope.yml', 'motd.txt']).endsWith('/files/motd.txt') }) }}"
- copy:
    dest: "{{ root }}/secret.txt"
    content: "{{ lookup('password', 'credentials/replicator length=24 chars=ascii_letters') }}"
`,
      'pb.yml': '- hosts: h1\n  gather_facts: false\n  roles: [r]\n',
    });
    const run = () => engineJson(['--diff', '-v', '-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`]);
    process.env.PLINTH_LOOKUP_TEST = 'the-env';
    onTestFinished(() => {
      delete process.env.PLINTH_LOOKUP_TEST;
    });
    const r = await run();
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(JSON.parse(await fs.readFile(path.join(root, 'out.json'), 'utf8'))).toEqual({
      home: 'the-env',
      unset: 'dflt',
      motd: 'from the role',
      pipe: 'piped',
      lines: ['x', 'y'],
      globbed: ['a.conf', 'b.conf'],
      first: true,
    });
    const stored = await fs.readFile(path.join(root, 'credentials/replicator'), 'utf8');
    expect(stored).toMatch(/^[A-Za-z]{24}\n$/);
    expect((await fs.stat(path.join(root, 'credentials/replicator'))).mode & 0o777).toBe(0o600);
    expect(await fs.readFile(path.join(root, 'secret.txt'), 'utf8')).toBe(stored.trim());
    expect(r.stdout + r.stderr).not.toContain(stored.trim());
    // The password file is made once: a second run reads it back and changes nothing.
    const again = await run();
    expect(again.stderr).toMatch(/changed=0/);
    expect(await fs.readFile(path.join(root, 'credentials/replicator'), 'utf8')).toBe(stored);
  });

  it('name what they could not find, and refuse a plugin plinth lacks', async () => {
    const root = await tempTree({
      'inv.yml': 'all:\n  hosts:\n    h1: { ansible_connection: local }\n',
      'pb.yml': `- hosts: h1\n  gather_facts: false\n  tasks:\n    - debug: { msg: "{{ lookup('file', 'missing.txt') }}" }\n      ignore_errors: true\n    - debug: { msg: "{{ lookup('redis', 'k') }}" }\n`,
    });
    const r = await engineJson(['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`could not find 'missing.txt' (looked in: ${root}/files/missing.txt, ${root}/missing.txt`);
    expect(r.stderr).toContain("lookup plugin 'redis' is not supported (plinth has: env, file, pipe, lines, fileglob, first_found, password)");
  });
});
