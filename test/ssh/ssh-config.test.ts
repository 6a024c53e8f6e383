// ~/.ssh/config resolution, checked against what OpenSSH itself resolves (`ssh -G`).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { hostPatternsMatch, loadSshConfig, parseProxyJump, parseSshConfig, resolveSshHost, SshConfigError, sshOptionsFor } from '../../engine/connection/ssh-config.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'plinth-sshcfg-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CONFIG = `
# global options come first in effect only where nothing earlier set them
Host db*  !db-legacy
  HostName %h.internal.example
  User postgres
  Port 2201
  IdentityFile ~/.ssh/db_key

Host web1 web2
  HostName=10.0.0.5
  Port 2202
  ProxyJump admin@bastion.example:2222

Host *
  User deploy
  Port 22
  IdentityFile ~/.ssh/id_ed25519
  StrictHostKeyChecking accept-new
  UserKnownHostsFile ~/.ssh/known_hosts ~/.ssh/known_hosts2
  ServerAliveInterval 7
`;

describe('resolveSshHost', () => {
  const blocks = parseSshConfig(CONFIG, '/home/u/.ssh/config');

  test('first value wins: a specific Host block before Host * keeps its User and Port', () => {
    const r = resolveSshHost(blocks, 'db1');
    expect(r).toMatchObject({ hostName: 'db1.internal.example', user: 'postgres', port: 2201 });
  });

  test('IdentityFile accumulates in order, with ~ expanded', () => {
    const r = resolveSshHost(blocks, 'db1');
    expect(r.identityFiles).toEqual([path.join(os.homedir(), '.ssh/db_key'), path.join(os.homedir(), '.ssh/id_ed25519')]);
  });

  test('a negated pattern excludes the host from the block', () => {
    const r = resolveSshHost(blocks, 'db-legacy');
    expect(r).toMatchObject({ hostName: 'db-legacy', user: 'deploy', port: 22 });
  });

  test('key=value syntax, several patterns on one Host line, and ProxyJump', () => {
    const r = resolveSshHost(blocks, 'web2');
    expect(r).toMatchObject({ hostName: '10.0.0.5', user: 'deploy', port: 2202 });
    expect(r.proxyJump).toEqual([{ user: 'admin', host: 'bastion.example', port: 2222 }]);
  });

  test('options of Host * apply to unknown names; host key options are mapped', () => {
    const r = resolveSshHost(blocks, 'anything');
    expect(r.hostName).toBe('anything');
    expect(r.strictHostKeyChecking).toBe('accept-new');
    expect(r.userKnownHostsFiles).toEqual([path.join(os.homedir(), '.ssh/known_hosts'), path.join(os.homedir(), '.ssh/known_hosts2')]);
    expect(r.serverAliveIntervalSeconds).toBe(7);
  });

  test('the same answers as OpenSSH (ssh -G)', () => {
    const file = path.join(tmp, 'config');
    writeFileSync(file, CONFIG);
    for (const alias of ['db1', 'db-legacy', 'web2', 'other']) {
      const g = execFileSync('ssh', ['-G', '-F', file, alias], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const get = (k: string) =>
        g
          .split('\n')
          .filter((l) => l.startsWith(`${k} `))
          .map((l) => l.slice(k.length + 1));
      const r = resolveSshHost(parseSshConfig(CONFIG, file), alias);
      expect(r.hostName).toBe(get('hostname')[0]);
      expect(r.user).toBe(get('user')[0]);
      expect(String(r.port)).toBe(get('port')[0]);
      expect(r.identityFiles).toEqual(get('identityfile').map((f) => f.replace(/^~/, os.homedir())));
    }
  });

  test('ProxyJump none disables a jump host set by a later block', () => {
    const b = parseSshConfig('Host direct\n  ProxyJump none\nHost *\n  ProxyJump bastion\n');
    expect(resolveSshHost(b, 'direct').proxyJump).toBeUndefined();
    expect(resolveSshHost(b, 'other').proxyJump).toEqual([{ host: 'bastion', user: undefined, port: undefined }]);
  });

  test('Match all applies; other Match blocks are skipped, never applied by mistake', () => {
    const b = parseSshConfig('Match host web1 exec "true"\n  User wrong\nMatch all\n  User right\n');
    expect(resolveSshHost(b, 'web1').user).toBe('right');
  });

  test('quoted arguments and Include of a directory glob', () => {
    mkdirSync(path.join(tmp, 'conf.d'), { recursive: true });
    writeFileSync(path.join(tmp, 'conf.d', '10-app.conf'), 'Host app\n  IdentityFile "/keys/with space"\n  User app\n');
    const b = parseSshConfig(`Include conf.d/*.conf\nHost *\n  User fallback\n`, path.join(tmp, 'main'), tmp);
    const r = resolveSshHost(b, 'app');
    expect(r.user).toBe('app');
    expect(r.identityFiles).toEqual(['/keys/with space']);
  });

  test('an invalid Port is a clear error', () => {
    const b = parseSshConfig('Host x\n  Port http\n');
    expect(() => resolveSshHost(b, 'x')).toThrow(SshConfigError);
    expect(() => resolveSshHost(b, 'x')).toThrow(/invalid Port 'http' for host x/);
  });

  test('a missing config file is an empty config', () => {
    const r = resolveSshHost(loadSshConfig(path.join(tmp, 'nope')), 'h1');
    expect(r).toMatchObject({ hostName: 'h1', identityFiles: [] });
    expect(r.user).toBeUndefined();
  });
});

describe('patterns and ProxyJump syntax', () => {
  test.each([
    [['*'], 'x', true],
    [['web?'], 'web10', false],
    [['*.example.com', '!secret.example.com'], 'secret.example.com', false],
    [['!secret'], 'other', false],
    [['WEB1'], 'web1', true],
  ])('%j matches %s: %s', (patterns, alias, expected) => {
    expect(hostPatternsMatch(patterns, alias)).toBe(expected);
  });

  test('hops with users, ports, IPv6 brackets and ssh:// URIs', () => {
    expect(parseProxyJump('a,u@b:2200,[::1]:22,ssh://c@d')).toEqual([
      { host: 'a', user: undefined, port: undefined },
      { host: 'b', user: 'u', port: 2200 },
      { host: '::1', user: undefined, port: 22 },
      { host: 'd', user: 'c', port: undefined },
    ]);
  });
});

describe('sshOptionsFor (inventory + ~/.ssh/config)', () => {
  const keyA = path.join(tmp, 'key_a');
  const keyB = path.join(tmp, 'key_b');
  writeFileSync(keyA, 'x');
  writeFileSync(keyB, 'x');
  const blocks = parseSshConfig(`
Host db1
  HostName 10.1.0.11
  User postgres
  Port 2222
  IdentityFile ${path.join(tmp, 'missing_key')}
  IdentityFile ${keyA}
  ProxyJump jump1,admin@jump2:2200
  StrictHostKeyChecking accept-new
  ConnectTimeout 4
Host jump2
  HostName 10.9.0.2
  IdentityFile ${keyB}
`);

  test('inventory values win over the config; the first existing IdentityFile is used', () => {
    const o = sshOptionsFor(blocks, { name: 'db1', port: 22, user: 'root' }, { agent: false });
    expect(o).toMatchObject({
      name: 'db1',
      host: '10.1.0.11',
      port: 22,
      user: 'root',
      privateKeyPath: keyA,
      hostKeyChecking: 'accept-new',
      connectTimeoutMs: 4000,
    });
    expect(o.knownHostsFiles).toEqual([path.join(os.homedir(), '.ssh/known_hosts'), path.join(os.homedir(), '.ssh/known_hosts2'), '/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']);
  });

  test('config values apply when the inventory says nothing; ansible_host is the name matched', () => {
    const o = sshOptionsFor(blocks, { name: 'database', host: 'db1' });
    expect(o).toMatchObject({ name: 'database', host: '10.1.0.11', port: 2222, user: 'postgres' });
  });

  test('a ProxyJump chain nests the last hop closest to the target, each hop resolved through the config', () => {
    const o = sshOptionsFor(blocks, { name: 'db1' }, { hostKeyChecking: 'yes', password: 'target-only' });
    expect(o.proxyJump).toMatchObject({ name: 'jump2', host: '10.9.0.2', port: 2200, user: 'admin', privateKeyPath: keyB, hostKeyChecking: 'yes' });
    expect(o.proxyJump?.password).toBeUndefined();
    expect(o.proxyJump?.proxyJump).toMatchObject({ name: 'jump1', host: 'jump1', port: 22 });
    expect(o.proxyJump?.proxyJump?.proxyJump).toBeUndefined();
  });

  test('a ProxyJump loop is an error, not a hang', () => {
    const loop = parseSshConfig('Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n');
    expect(() => sshOptionsFor(loop, { name: 'a' })).toThrow(/too long \(a loop\?\)/);
  });
});
