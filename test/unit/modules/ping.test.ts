// ping against the local connection and a real sshd; through the CLI as an Ansible user writes it.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as path from 'node:path';
import { ping } from '../../../modules/ping.js';
import { SshHost } from '../../../engine/connection/ssh.js';
import { sshOptionsTo, startSshd, type TestSshd } from '../../helpers/sshd.js';
import { run, schemaProblems } from '../../helpers/modules.js';
import { plinth, tempTree } from '../../helpers/cli.js';

describe('ping', () => {
  let sshd: TestSshd;
  let host: SshHost;
  beforeAll(async () => {
    sshd = await startSshd();
    host = await SshHost.connect(sshOptionsTo(sshd));
  });
  afterAll(async () => {
    await host?.close();
    await sshd?.stop();
  });

  test('answers pong locally and over ssh, in check mode too, never changed', async () => {
    for (const h of [undefined, host]) {
      for (const check of [false, true]) {
        const r = await run(ping, {}, { host: h, check });
        expect(r).toMatchObject({ status: 'ok', result: { ping: 'pong' } });
      }
    }
    expect((await run(ping, { data: 'hello there' }, { host })).result).toEqual({ ping: 'hello there' });
  });

  test("data: crash fails, as Ansible's does", async () => {
    await expect(run(ping, { data: 'crash' })).rejects.toThrow(/boom/);
  });

  test('schema: unknown arguments are refused', () => {
    expect(schemaProblems(ping, { dat: 'x' })[0].message).toMatch(/unknown field 'dat'/);
  });

  test('in a playbook: register, and a bad argument names file:line', async () => {
    const root = await tempTree({
      'pb.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n      register: p\n    - assert: { that: ["p.ping == \'pong\'"] }\n',
      'bad.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ping:\n        date: x\n',
    });
    const ok = await plinth(['run', path.join(root, 'pb.yml')]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const bad = await plinth(['run', path.join(root, 'bad.yml')]);
    expect(bad.stderr).toBe(`ERROR! bad.yml:5:9: ping: date: unknown field 'date'\n`);
    expect(bad.code).toBe(4);
  });
});
