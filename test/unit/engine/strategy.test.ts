// strategy: free (each host at its own pace) and throttle (hosts running one task at once), shown
// by the order of events and by what the commands themselves record, never by how long anything took.
// Hosts wait for each other through files; every wait gives up after minutes (a hang guard).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { localInventory, tempTree } from '../../helpers/cli.js';
import { engineJson } from '../../helpers/engine.js';

/** A shell loop that waits for a condition; after five minutes or more it fails the task instead of hanging. */
const waitUntil = (condition: string) => `i=0; until ${condition}; do sleep 0.05; i=$((i+1)); [ $i -lt 6000 ] || exit 9; done`;

/** The most hosts that were between "begin" and "end" at once, from a log of those lines. */
function mostAtOnce(log: string): number {
  let now = 0;
  let most = 0;
  for (const line of log.split('\n').filter(Boolean)) {
    now += line.startsWith('begin') ? 1 : -1;
    most = Math.max(most, now);
  }
  return most;
}

describe('strategy: free', () => {
  it('a slow host does not hold the others back: they finish the play while it still waits for them', async () => {
    const root = await tempTree({ 'inv.yml': localInventory(['slow', 'fast1', 'fast2']) });
    await fs.writeFile(
      path.join(root, 'pb.yml'),
      `- hosts: all
  strategy: free
  gather_facts: false
  tasks:
    - name: first
      shell: |
        if [ {{ inventory_hostname }} = slow ]; then ${waitUntil(`[ -e ${root}/done-fast1 ] && [ -e ${root}/done-fast2 ]`)}; fi
    - name: second
      command: "true"
    - name: last
      shell: touch ${root}/done-{{ inventory_hostname }}
`,
    );
    const r = await engineJson(['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml')]);
    expect(r.stderr).not.toContain('ERROR');
    expect(r.code).toBe(0);
    const order = r.events.filter((e) => e.type === 'result').map((e) => `${e.host}:${e.task}`);
    expect(order).toHaveLength(9);
    // The slow host's first task could end only after the fast hosts had started their last one,
    // so their first and second results came before it: under linear this play could not finish.
    const slowFirst = order.indexOf('slow:first');
    for (const fast of ['fast1', 'fast2']) {
      expect(order.indexOf(`${fast}:first`)).toBeLessThan(slowFirst);
      expect(order.indexOf(`${fast}:second`)).toBeLessThan(slowFirst);
    }
    expect(order.indexOf('slow:second')).toBeGreaterThan(slowFirst);
    expect(r.events.at(-1)!.hosts).toMatchObject({ slow: { changed: 3 }, fast1: { changed: 3 }, fast2: { changed: 3 } });
  }, 600_000);

  it('a failed host stops only itself; handlers still run at the end of the play', async () => {
    const root = await tempTree({ 'inv.yml': localInventory(['h1', 'h2']) });
    await fs.writeFile(
      path.join(root, 'pb.yml'),
      `- hosts: all
  strategy: free
  gather_facts: false
  tasks:
    - command: "{{ inventory_hostname == 'h1' ? 'false' : 'true' }}"
    - copy: { dest: "${root}/{{ inventory_hostname }}", content: "ran" }
      notify: done
  handlers:
    - name: done
      copy: { dest: "${root}/{{ inventory_hostname }}.handler", content: "ran" }
`,
    );
    const r = await engineJson(['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml')]);
    expect(r.code).toBe(2);
    expect(await fs.readFile(path.join(root, 'h2.handler'), 'utf8')).toBe('ran');
    await expect(fs.stat(path.join(root, 'h1'))).rejects.toThrow(/ENOENT/);
  }, 600_000);
});

describe('throttle', () => {
  const log = (file: string) => `echo "begin {{ inventory_hostname }}" >> ${file}`;
  const end = (file: string) => `echo "end {{ inventory_hostname }}" >> ${file}`;

  it('on a task: one host at a time; on a block: every task of it at most two at a time, and two did run together', async () => {
    const root = await tempTree({ 'inv.yml': localInventory(['h1', 'h2', 'h3', 'h4']) });
    const one = path.join(root, 'one.log');
    const [a, b] = [path.join(root, 'a.log'), path.join(root, 'b.log')];
    // A block task waits until two hosts are inside it (or every host has been): it can end only
    // if the throttle lets two in, and its log shows whether more ever were.
    const pair = (file: string) => `${log(file)}; ${waitUntil(`[ $(grep -c begin ${file}) -ge 4 ] || [ $(( $(grep -c begin ${file}) - $(grep -c end ${file} || true) )) -ge 2 ]`)}; ${end(file)}`;
    await fs.writeFile(
      path.join(root, 'pb.yml'),
      `- hosts: all
  gather_facts: false
  tasks:
    - name: one at a time
      throttle: 1
      shell: '${log(one)}; sleep 0.1; ${end(one)}'
    - throttle: 2
      block:
        - name: pair a
          shell: '${pair(a)}'
        - name: pair b
          shell: '${pair(b)}'
`,
    );
    const r = await engineJson(['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '--forks', '4']);
    expect(r.stderr).not.toContain('ERROR');
    expect(r.code).toBe(0);
    const oneLog = await fs.readFile(one, 'utf8');
    expect(oneLog.split('\n').filter(Boolean)).toHaveLength(8);
    expect(mostAtOnce(oneLog)).toBe(1);
    expect(mostAtOnce(await fs.readFile(a, 'utf8'))).toBe(2);
    expect(mostAtOnce(await fs.readFile(b, 'utf8'))).toBe(2);
  }, 600_000);

  it('under strategy free, one throttle is shared by the hosts that reach the task at different times', async () => {
    const root = await tempTree({ 'inv.yml': localInventory(['h1', 'h2', 'h3']) });
    const one = path.join(root, 'one.log');
    await fs.writeFile(
      path.join(root, 'pb.yml'),
      `- hosts: all
  strategy: free
  gather_facts: false
  tasks:
    - command: "true"
    - name: one at a time
      throttle: 1
      shell: '${log(one)}; sleep 0.1; ${end(one)}'
`,
    );
    const r = await engineJson(['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml')]);
    expect(r.code).toBe(0);
    const oneLog = await fs.readFile(one, 'utf8');
    expect(oneLog.split('\n').filter(Boolean)).toHaveLength(6);
    expect(mostAtOnce(oneLog)).toBe(1);
  }, 600_000);
});
