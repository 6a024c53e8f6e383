// Connections across plays: each host is connected once per run and the connection is shared by
// every play; the hosts of later plays are connected while the first play still runs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { LocalHost } from '../../../engine/connection/local.js';
import { Inventory } from '../../../engine/load/inventory.js';
import { loadPlaybook } from '../../../engine/load/playbook.js';
import { runPlaybook } from '../../../engine/run/runner.js';
import type { RunEvent } from '../../../engine/run/events.js';
import type { Host } from '../../../engine/types.js';
import { moduleLoaders } from '../../../modules/index.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'plinth-connections-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('connections', () => {
  test("later plays' hosts are connected while the first play runs, once each, and closed at the end", async () => {
    const marker = path.join(root, 'first-play-ran');
    const pb = path.join(root, 'three-plays.yml');
    writeFileSync(
      pb,
      `
- hosts: db
  gather_facts: false
  tasks:
    - name: slow first task
      command: sleep 1
    - name: first play done
      copy: { dest: "${marker}", content: "x" }
- hosts: web
  gather_facts: false
  tasks:
    - command: "true"
- hosts: all
  gather_facts: false
  tasks:
    - command: "true"
`,
    );
    const inventory = new Inventory('test');
    for (const [group, host] of [
      ['db', 'db1'],
      ['web', 'web1'],
      ['web', 'web2'],
    ]) {
      inventory.addHost(group, host, { ansible_connection: 'local' });
      inventory.addChild('all', group);
    }
    const plays = await loadPlaybook(pb, { modules: moduleLoaders, rolesPath: [] });
    const opened: { name: string; at: number }[] = [];
    const closed: string[] = [];
    // Order of events, not time: a counter.
    let seq = 0;
    let firstPlayDone = 0;
    const connect = async (name: string): Promise<Host> => {
      opened.push({ name, at: ++seq });
      const host = new LocalHost(name);
      const close = host.close.bind(host);
      host.close = async () => {
        closed.push(name);
        await close();
      };
      return host;
    };
    const events: RunEvent[] = [];
    await runPlaybook({
      inventory,
      plays,
      check: false,
      connect,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'result' && e.task === 'first play done') firstPlayDone = ++seq;
      },
    });
    expect(events.filter((e) => e.type === 'result' && e.status !== 'ok' && e.status !== 'changed')).toEqual([]);
    expect(opened.map((o) => o.name).sort()).toEqual(['db1', 'web1', 'web2']);
    for (const web of opened.filter((o) => o.name.startsWith('web'))) expect(web.at).toBeLessThan(firstPlayDone);
    expect(closed.sort()).toEqual(['db1', 'web1', 'web2']);
  });
});
