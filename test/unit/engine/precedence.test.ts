// Variable precedence, one test per boundary, in the order engine/run/runner.ts scopeFor documents:
// role defaults < inventory (all < parent group < child group < host) < facts < play vars_files
// < play vars < role vars < role params < task vars < registered/set_fact < extra vars.
import { beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fixtures, tempTree } from '../../helpers/cli.js';
import { engineJson } from '../../helpers/engine.js';

const dir = path.join(fixtures, 'precedence');
let seen: Record<string, string>;

beforeAll(async () => {
  const tmp = await tempTree();
  const out = path.join(tmp, 'vars.json');
  const r = await engineJson(['-i', path.join(dir, 'inventory.yml'), path.join(dir, 'playbook.yml'), '-e', `out=${out}`, '-e', 'v11=extra-vars', '-e', '{"v17": "extra-vars"}']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.events.filter((e) => e.type === 'result' && e.status === 'failed')).toEqual([]);
  seen = JSON.parse(await fs.readFile(out, 'utf8'));
});

describe('variable precedence', () => {
  it('role defaults are seen when nothing else defines the variable', () => expect(seen.v00).toBe('role-defaults'));
  it('inventory all vars beat role defaults', () => expect(seen.v01).toBe('inventory-all'));
  it('group vars beat all vars', () => expect(seen.v02).toBe('parent-group'));
  it('a child group beats its parent group', () => expect(seen.v03).toBe('child-group'));
  it('host vars beat group vars', () => expect(seen.v04).toBe('inventory-host'));
  it('group_vars/all.yml < group_vars/child.yml', () => expect(seen.v16).toBe('group_vars-child'));
  it('group_vars/ files beat group vars written in the inventory', () => expect(seen.v13).toBe('group_vars-file'));
  it('host_vars/ (folder form) beats host vars written in the inventory', () => expect(seen.v12).toBe('host_vars-folder'));
  it('gathered facts beat inventory host vars', () => expect(seen.ansible_system).toBe('Linux'));
  it('play vars_files beat facts', () => expect(seen.ansible_architecture).toBe('vars-files'));
  it('play vars beat play vars_files', () => expect(seen.v06).toBe('play-vars'));
  it('role vars beat play vars', () => expect(seen.v07).toBe('role-vars'));
  it('role params beat role vars', () => expect(seen.v08).toBe('role-params'));
  it('task vars beat play vars', () => expect(seen.tv_play).toBe('task-vars'));
  it('registered results beat role params', () => expect(seen.r10).toBe('registered'));
  it('set_fact beats role params', () => expect(seen.v09).toBe('set-fact'));
  it('set_fact beats task vars', () => expect(seen.tv_fact).toBe('set-fact'));
  it('extra vars (k=v) beat set_fact', () => expect(seen.v11).toBe('extra-vars'));
  it('extra vars (JSON) beat task vars', () => expect(seen.tv_extra).toBe('extra-vars'));
  it('group_vars/all.yml is read', () => expect(seen.v15).toBe('group_vars-all'));
});
