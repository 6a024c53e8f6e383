// Magic variables a task sees: groups (made once per play) and play_hosts / ansible_play_hosts,
// which leave out the hosts that failed earlier in the play.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { Inventory } from '../../../engine/load/inventory.js';
import { loadPlaybook } from '../../../engine/load/playbook.js';
import { runPlaybook } from '../../../engine/run/runner.js';
import type { RunEvent } from '../../../engine/run/events.js';
import { moduleLoaders } from '../../../modules/index.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'plinth-magic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('magic variables', () => {
  test("play_hosts drops a failed host; groups lists each group's hosts, the same for every host and task", async () => {
    const pb = path.join(root, 'pb.yml');
    writeFileSync(
      pb,
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: before
      debug: { msg: "{{ [play_hosts.join(','), ansible_play_hosts.length, groups.db.join(','), groups.all.length].join(' ') }}" }
    - name: c fails
      command: "false"
      when: inventory_hostname == 'c'
    - name: after
      debug: { msg: "{{ [play_hosts.join(','), ansible_play_hosts.length, groups.db.join(','), groups.all.length].join(' ') }}" }
`,
    );
    const inventory = new Inventory('test');
    for (const [group, host] of [
      ['db', 'a'],
      ['db', 'b'],
      ['web', 'c'],
    ]) {
      inventory.addHost(group, host, { ansible_connection: 'local' });
      inventory.addChild('all', group);
    }
    const plays = await loadPlaybook(pb, { modules: moduleLoaders, rolesPath: [] });
    const events: RunEvent[] = [];
    await runPlaybook({ inventory, plays, check: false, onEvent: (e) => events.push(e) });
    const msgs = (task: string) => Object.fromEntries(events.flatMap((e) => (e.type === 'result' && e.task === task ? [[e.host, e.result?.msg]] : [])));
    expect(msgs('before')).toEqual({ a: 'a,b,c 3 a,b 3', b: 'a,b,c 3 a,b 3', c: 'a,b,c 3 a,b 3' });
    expect(msgs('after')).toEqual({ a: 'a,b 2 a,b 3', b: 'a,b 2 a,b 3' });
  });
});
