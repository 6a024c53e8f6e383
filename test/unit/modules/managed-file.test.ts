// Errors of the shared file writer (modules/support/managed-file.ts) over a real ssh connection.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SshHost } from '../../../engine/connection/ssh.js';
import { copy } from '../../../modules/copy.js';
import { run } from '../../helpers/modules.js';
import { sshOptionsTo, startSshd, type TestSshd } from '../../helpers/sshd.js';

let sshd: TestSshd;
let host: SshHost;
let dir: string;

beforeAll(async () => {
  sshd = await startSshd();
  host = new SshHost(sshOptionsTo(sshd, { connectTimeoutMs: undefined }));
  // Readable by everyone, writable only by root.
  dir = mkdtempSync(path.join(os.tmpdir(), 'plinth-managed-file-'));
  chmodSync(dir, 0o755);
}, 30_000);

afterAll(async () => {
  await host?.close();
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('managed file over ssh', () => {
  test('a refused write names the file once, with the host and the reason', async () => {
    const dest = path.join(dir, 'app.conf');
    const err = await run(copy, { dest, content: 'a = 1\n' }, { host, become: { become: true, becomeUser: 'nobody' } }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(new RegExp(`^cannot write ${dest} as nobody on web1: .*Permission denied`));
    expect(err!.message.split('cannot write').length).toBe(2);
  });
});
