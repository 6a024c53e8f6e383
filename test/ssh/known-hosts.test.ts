// Host key checking against OpenSSH known_hosts files, with a real sshd.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { UnreachableError } from '../../engine/connection/connection-errors.js';
import { entryMatches, fingerprintOf, parseKnownHosts, verifyHostKey } from '../../engine/connection/known-hosts.js';
import { SshHost, type SshOptions } from '../../engine/connection/ssh.js';
import { keygen, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
let tmp: string;

beforeAll(async () => {
  sshd = await startSshd();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'plinth-kh-'));
}, 30_000);

afterAll(async () => {
  await sshd?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function keyBlob(publicLine: string): Buffer {
  return Buffer.from(publicLine.split(/\s+/)[1], 'base64');
}

function options(knownHostsFile: string, hostKeyChecking: SshOptions['hostKeyChecking']): SshOptions {
  return {
    name: 'web1',
    host: '127.0.0.1',
    port: sshd.port,
    user: 'root',
    privateKeyPath: sshd.userKeyPath,
    agent: false,
    knownHostsFiles: [knownHostsFile],
    hostKeyChecking,
    connectTimeoutMs: 5000,
  };
}

async function connectError(opts: SshOptions): Promise<Error> {
  try {
    const host = await SshHost.connect(opts);
    await host.close();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the connection to be refused');
}

/** A second key of the server's type that the server does not have. */
function otherKeyLine(): string {
  const file = path.join(tmp, `other-${Math.random().toString(36).slice(2)}`);
  keygen(file, 'ed25519');
  return readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

describe('parsing and matching (OpenSSH format)', () => {
  const blob = Buffer.from([0, 0, 0, 11, ...Buffer.from('ssh-ed25519'), 0, 0, 0, 1, 7]);
  const b64 = blob.toString('base64');

  test.each([
    ['exact name on port 22', `web1 ssh-ed25519 ${b64}`, 'web1', true],
    ['name list', `a,web1,b ssh-ed25519 ${b64}`, 'web1', true],
    ['wildcard', `*.example.com ssh-ed25519 ${b64}`, 'db.example.com', true],
    ['question mark', `web? ssh-ed25519 ${b64}`, 'web1', true],
    ['negation wins', `*.example.com,!db.example.com ssh-ed25519 ${b64}`, 'db.example.com', false],
    ['bracketed port', `[10.0.0.1]:2222 ssh-ed25519 ${b64}`, '[10.0.0.1]:2222', true],
    ['port form does not match port 22 name', `[10.0.0.1]:2222 ssh-ed25519 ${b64}`, '10.0.0.1', false],
    ['case-insensitive pattern', `WEB1 ssh-ed25519 ${b64}`, 'web1', true],
  ])('%s', (_label, line, name, expected) => {
    const [entry] = parseKnownHosts(line, 'kh');
    expect(entryMatches(entry, name)).toBe(expected);
  });

  test('comments, blank and malformed lines are skipped; line numbers are kept', () => {
    const entries = parseKnownHosts(`# comment\n\ngarbage\nweb1 ssh-ed25519 ${b64}\n`, '/x/known_hosts');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ file: '/x/known_hosts', line: 4, keyType: 'ssh-ed25519' });
  });

  test('markers: @revoked rejects the key, @cert-authority lines are not host keys', () => {
    const entries = parseKnownHosts(`@cert-authority * ssh-ed25519 ${b64}\n@revoked web1 ssh-ed25519 ${b64}\n`, 'kh');
    expect(entries.map((e) => e.marker)).toEqual(['cert-authority', 'revoked']);
    expect(verifyHostKey(entries, 'web1', 22, blob).status).toBe('revoked');
    expect(verifyHostKey(entries.slice(0, 1), 'web1', 22, blob).status).toBe('unknown');
  });

  test('a key of another type than the known one is unknown, not changed', () => {
    const rsa = Buffer.from([0, 0, 0, 7, ...Buffer.from('ssh-rsa'), 0, 0, 0, 1, 3]);
    const entries = parseKnownHosts(`web1 ssh-rsa ${rsa.toString('base64')}`, 'kh');
    const verdict = verifyHostKey(entries, 'web1', 22, blob);
    expect(verdict.status).toBe('unknown');
  });

  test('fingerprint is SHA256 base64 without padding, as ssh-keygen -l prints it', () => {
    const printed = execFileSync('ssh-keygen', ['-l', '-f', `${sshd.dir}/host_key.pub`], { encoding: 'utf8' });
    expect(printed).toContain(fingerprintOf(keyBlob(sshd.hostKey)));
  });
});

describe('host key checking with a real sshd', () => {
  test('a known key is accepted', async () => {
    const file = path.join(tmp, 'known-ok');
    writeFileSync(file, `# lab\n${sshd.knownHostsLine}\n`);
    const host = await SshHost.connect(options(file, 'yes'));
    const r = await host.exec(['true']);
    await host.close();
    expect(r.exitCode).toBe(0);
  });

  test('an unknown host is refused with hostKeyChecking yes, and the file is not touched', async () => {
    const file = path.join(tmp, 'known-empty');
    writeFileSync(file, '');
    const err = await connectError(options(file, 'yes'));
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toContain(`No ED25519 host key is known for [127.0.0.1]:${sshd.port}`);
    expect(err.message).toContain(fingerprintOf(keyBlob(sshd.hostKey)));
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  test('accept-new appends the key, creating the file, and the next connection checks against it', async () => {
    const file = path.join(tmp, 'new-dir', 'known_hosts');
    const first = await SshHost.connect(options(file, 'accept-new'));
    await first.close();
    expect(readFileSync(file, 'utf8')).toBe(`${sshd.knownHostsLine}\n`);
    const second = await SshHost.connect(options(file, 'yes'));
    expect((await second.exec(['echo', 'ok'])).stdout).toBe('ok\n');
    await second.close();
  });

  test('a changed key fails like OpenSSH, naming key type, fingerprint and file:line, even with accept-new', async () => {
    const file = path.join(tmp, 'known-changed');
    writeFileSync(file, `# first line\nother.example ${otherKeyLine()}\n[127.0.0.1]:${sshd.port} ${otherKeyLine()}\n`);
    const err = await connectError(options(file, 'accept-new'));
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toContain('WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!');
    expect(err.message).toContain('The fingerprint for the ED25519 key sent by the remote host is');
    expect(err.message).toContain(fingerprintOf(keyBlob(sshd.hostKey)));
    expect(err.message).toContain(`Offending ED25519 key in ${file}:3`);
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(4);
  });

  test('hashed entries written by ssh-keygen -H are matched', async () => {
    const file = path.join(tmp, 'known-hashed');
    writeFileSync(file, `${sshd.knownHostsLine}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('|1|')).toBe(true);
    expect(text).not.toContain('127.0.0.1');
    const host = await SshHost.connect(options(file, 'yes'));
    expect((await host.exec(['true'])).exitCode).toBe(0);
    await host.close();
  });

  test('a changed key in a hashed entry is reported with its line', async () => {
    const file = path.join(tmp, 'known-hashed-changed');
    writeFileSync(file, `[127.0.0.1]:${sshd.port} ${otherKeyLine()}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const err = await connectError(options(file, 'yes'));
    expect(err.message).toContain(`Offending ED25519 key in ${file}:1`);
  });

  test('a revoked key is refused even with accept-new', async () => {
    const file = path.join(tmp, 'known-revoked');
    writeFileSync(file, `@revoked [127.0.0.1]:${sshd.port} ${sshd.hostKey}\n`);
    const err = await connectError(options(file, 'accept-new'));
    expect(err.message).toContain('REVOKED HOST KEY');
    expect(err.message).toContain(`${file}:1`);
  });

  test('hostKeyChecking no connects without any known_hosts file', async () => {
    const host = await SshHost.connect(options(path.join(tmp, 'does-not-exist'), 'no'));
    expect((await host.exec(['true'])).exitCode).toBe(0);
    await host.close();
  });
});
