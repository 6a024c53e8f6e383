// `plinth adhoc` as typed: one module on a pattern's hosts, compact per-host lines, check and
// diff, typed k=v arguments, and errors that name the option rather than a temporary file.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { plinth, tempTree } from '../../helpers/cli.js';

describe('plinth adhoc', () => {
  test('ping, and command by default (its output after the status line)', async () => {
    const ping = await plinth(['adhoc', 'localhost', '-m', 'ping']);
    expect(ping).toMatchObject({ code: 0, stdout: 'localhost | SUCCESS => {"ping":"pong"}\n' });
    const cmd = await plinth(['adhoc', 'localhost', '-a', 'echo "two words"']);
    expect(cmd).toMatchObject({ code: 0, stdout: 'localhost | CHANGED | rc=0 >>\ntwo words\n' });
  });

  test('check and diff change nothing; the real run changes, the second run is ok', async () => {
    const root = await tempTree();
    const dest = path.join(root, 'motd');
    const args = ['adhoc', 'localhost', '-m', 'copy', '-a', `dest=${dest} content="managed by plinth" mode=0644`];
    const check = await plinth([...args, '--check', '--diff']);
    expect(check.stdout).toBe(`localhost | CHANGED (check mode) | create ${dest} (0644) => {"dest":"${dest}"}\n--- before: ${dest}\n+++ after: ${dest}\n@@ -0,0 +1,1 @@\n+managed by plinth\n\n`);
    expect(existsSync(dest)).toBe(false);
    expect((await plinth(args)).stdout).toMatch(/^localhost \| CHANGED \| create /);
    expect((await plinth(args)).stdout).toBe(`localhost | SUCCESS => {"dest":"${dest}"}\n`);
    expect(await fs.readFile(dest, 'utf8')).toBe('managed by plinth');
  });

  test('a host from an inventory, a failure (exit 2) without a temporary file in the message', async () => {
    const root = await tempTree({ 'hosts.ini': '[db]\nlocalhost ansible_connection=local\n' });
    const r = await plinth(['adhoc', 'db', '-i', path.join(root, 'hosts.ini'), '-m', 'wait_for', '-a', 'port=1 timeout=0']);
    expect(r).toMatchObject({ code: 2, stdout: 'localhost | FAILED! => Timeout when waiting for 127.0.0.1:1\n' });
  });

  test('bad module or arguments: exit 5, the option named', async () => {
    const unknown = await plinth(['adhoc', 'localhost', '-m', 'pingg']);
    expect(unknown).toMatchObject({ code: 5, stderr: "ERROR! -m pingg: unknown module 'pingg' (did you mean 'ping'?)\n" });
    const bad = await plinth(['adhoc', 'localhost', '-m', 'wait_for', '-a', 'port=abc']);
    expect(bad.code).toBe(5);
    expect(bad.stderr).toBe("ERROR! -m wait_for -a 'port=abc': wait_for: port: must be integer, got string\n");
  });
});
