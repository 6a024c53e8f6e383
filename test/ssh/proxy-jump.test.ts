// ProxyJump: the target is reached through a tunnel on the jump host's connection.
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { UnreachableError } from '../../engine/connection/connection-errors.js';
import { SshHost, type SshOptions } from '../../engine/connection/ssh.js';
import { parseSshConfig, sshOptionsFor } from '../../engine/connection/ssh-config.js';
import { sshOptionsTo, startSshd, type TestSshd } from '../helpers/sshd.js';

let bastion: TestSshd;
let noForwarding: TestSshd;
let target: TestSshd;

function options(server: TestSshd, name: string, extra: Partial<SshOptions> = {}): SshOptions {
  return sshOptionsTo(server, { name, ...extra });
}

beforeAll(async () => {
  [bastion, noForwarding, target] = await Promise.all([startSshd({ extraConfig: ['LogLevel DEBUG1'] }), startSshd({ extraConfig: ['AllowTcpForwarding no'] }), startSshd()]);
}, 30_000);

afterAll(async () => {
  await Promise.all([bastion?.stop(), noForwarding?.stop(), target?.stop()]);
});

test('commands and files on the target go through the jump host', async () => {
  const host = await SshHost.connect(options(target, 'db1', { proxyJump: options(bastion, 'bastion') }));
  try {
    expect((await host.exec(['echo', 'via bastion'])).stdout).toBe('via bastion\n');
    const file = path.join(target.dir, 'through-jump');
    await host.write(file, 'x');
    expect((await host.read(file))?.toString()).toBe('x');
  } finally {
    await host.close();
  }
  expect(readFileSync(path.join(bastion.dir, 'sshd.log'), 'utf8')).toContain(`target 127.0.0.1 port ${target.port}`);
});

test('a jump host that forbids forwarding makes the target unreachable, naming the jump host', async () => {
  const err = await SshHost.connect(options(target, 'db1', { proxyJump: options(noForwarding, 'bastion2') })).catch((e: Error) => e);
  expect(err).toBeInstanceOf(UnreachableError);
  expect((err as Error).message).toContain(`db1: cannot reach 127.0.0.1:${target.port} through jump host bastion2`);
});

test("the target's host key is still checked behind the jump host", async () => {
  const wrongKnownHosts = path.join(target.dir, 'known_hosts_wrong');
  writeFileSync(wrongKnownHosts, `[127.0.0.1]:${target.port} ${bastion.hostKey}\n`);
  const opts = { ...options(target, 'db1', { proxyJump: options(bastion, 'bastion') }), knownHostsFiles: [wrongKnownHosts] };
  const err = await SshHost.connect(opts).catch((e: Error) => e);
  expect(err).toBeInstanceOf(UnreachableError);
  expect((err as Error).message).toContain(`Offending ED25519 key in ${wrongKnownHosts}:1`);
});

test('a ProxyJump from ~/.ssh/config-style settings reaches the target', async () => {
  const config = parseSshConfig(`
Host db1
  HostName 127.0.0.1
  Port ${target.port}
  User root
  IdentityFile ${target.userKeyPath}
  ProxyJump bastion
Host bastion
  HostName 127.0.0.1
  Port ${bastion.port}
  User root
  IdentityFile ${bastion.userKeyPath}
`);
  const knownHosts = path.join(target.dir, 'known_hosts_both');
  writeFileSync(knownHosts, `${target.knownHostsLine}\n${bastion.knownHostsLine}\n`);
  const opts = sshOptionsFor(config, { name: 'db1' }, { knownHostsFiles: [knownHosts], agent: false });
  const tunnels = () => readFileSync(path.join(bastion.dir, 'sshd.log'), 'utf8').split(`target 127.0.0.1 port ${target.port}`).length;
  const before = tunnels();
  const host = await SshHost.connect(opts);
  try {
    expect((await host.exec(['sh', '-c', 'echo $SSH_CONNECTION'])).stdout).toContain(`127.0.0.1 ${target.port}`);
  } finally {
    await host.close();
  }
  expect(tunnels()).toBe(before + 1);
});
