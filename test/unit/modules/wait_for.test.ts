// wait_for against real things on this machine: a TCP server the test opens and closes on
// 127.0.0.1, files that appear, change and go. No timing is asserted: only that the wait ends
// the right way (done, or the timeout message).
import { createServer, type Server } from 'node:net';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { wait_for } from '../../../modules/wait_for.js';
import { run, schemaProblems } from '../../helpers/modules.js';
import { freePort } from '../../helpers/sshd.js';
import { plinth, tempTree } from '../../helpers/cli.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function listen(port: number, banner?: string): Promise<Server> {
  const server = createServer((socket) => {
    if (banner) socket.end(banner);
    else socket.end();
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

const later = (fn: () => unknown) => setTimeout(fn, 1500);

describe('wait_for', () => {
  test('a port that opens while waiting: done; state stopped on a closed port: done at once', async () => {
    const port = await freePort();
    later(() => listen(port));
    const started = await run(wait_for, { port, timeout: 120, sleep: 0.2 });
    expect(started).toMatchObject({ status: 'ok', result: { port, state: 'started' } });
    const closed = await freePort();
    expect((await run(wait_for, { port: closed, state: 'stopped', timeout: 120 })).status).toBe('ok');
  });

  test('a port that closes while waiting (state stopped)', async () => {
    const port = await freePort();
    const server = await listen(port);
    later(() => server.close());
    expect((await run(wait_for, { port, state: 'stopped', timeout: 120, sleep: 0.2 })).status).toBe('ok');
  });

  test('search_regex over what the port sends first, with the groups', async () => {
    const port = await freePort();
    await listen(port, 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
    const r = await run(wait_for, { port, search_regex: 'OpenSSH_(?P<version>[0-9.]+)', timeout: 60 });
    expect(r.result).toMatchObject({ match_groups: ['9.2'], match_groupdict: { version: '9.2' } });
  });

  test("the time is up: Ansible's message, or msg", async () => {
    const port = await freePort();
    await expect(run(wait_for, { port, timeout: 1, sleep: 0.2 })).rejects.toThrow(`Timeout when waiting for 127.0.0.1:${port}`);
    await expect(run(wait_for, { port, timeout: 0, msg: 'postgres never came up' })).rejects.toThrow('postgres never came up');
  });

  test('files: present, a regex in it (multi-line, as Ansible), absent', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-wait-'));
    const log = path.join(dir, 'postgresql.log');
    later(() => fs.writeFile(log, 'starting\n'));
    expect((await run(wait_for, { path: log, timeout: 120, sleep: 0.2 })).status).toBe('ok');
    later(() => fs.appendFile(log, 'LOG:  database system is ready to accept connections\n'));
    const ready = await run(wait_for, { path: log, search_regex: '^LOG:\\s+database system is (\\w+)', timeout: 120, sleep: 0.2 });
    expect(ready.result.match_groups).toEqual(['ready']);
    later(() => fs.rm(log));
    expect((await run(wait_for, { path: log, state: 'absent', timeout: 120, sleep: 0.2 })).status).toBe('ok');
    await expect(run(wait_for, { path: log, timeout: 0 })).rejects.toThrow(`Timeout when waiting for file ${log}`);
    await fs.rm(dir, { recursive: true });
  });

  test('check mode probes once: done when it holds, unknown (not a wait, not a failure) when not yet', async () => {
    const port = await freePort();
    const check = await run(wait_for, { port, timeout: 300 }, { check: true });
    expect(check).toMatchObject({ status: 'unknown', message: 'not yet; a real run waits up to 300 s' });
    await listen(port);
    expect((await run(wait_for, { port }, { check: true })).status).toBe('ok');
  });

  test('drained: no established connection left on the port', async () => {
    const port = await freePort();
    await listen(port);
    expect((await run(wait_for, { port, state: 'drained', timeout: 60 })).status).toBe('ok');
  });

  test('bad input: port with path, regex with stopped, an invalid regex', async () => {
    await expect(run(wait_for, { port: 1, path: '/x' })).rejects.toThrow('port and path are mutually exclusive');
    await expect(run(wait_for, { path: '/x', state: 'absent', search_regex: 'a' })).rejects.toThrow('search_regex needs a port or a path, and state started or present');
    await expect(run(wait_for, { path: '/x', search_regex: '(' })).rejects.toThrow(/search_regex is not a valid regular expression/);
    expect(schemaProblems(wait_for, { port: 70000 }).length).toBeGreaterThan(0);
  });

  test('in a playbook: the failure names the task file:line; ignore it and go on', async () => {
    const port = await freePort();
    const root = await tempTree({
      'pb.yml': `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: wait for postgres\n      wait_for: port=${port} timeout=0\n`,
    });
    const r = await plinth(['run', path.join(root, 'pb.yml')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`fatal: [localhost] => pb.yml:4:7: Timeout when waiting for 127.0.0.1:${port}\n`);
  });
});
