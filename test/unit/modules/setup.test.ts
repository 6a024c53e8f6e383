// setup: facts parsed from captured command output (a lab host's), gathered for real on this
// machine, and used by later tasks of a playbook the way Ansible roles use them.
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { setup } from '../../../modules/setup.js';
import { parseInterfaces, parseMounts } from '../../../modules/support/host-facts.js';
import { run, schemaProblems } from '../../helpers/modules.js';
import { plinth, tempTree } from '../../helpers/cli.js';

// Captured on a lab host (Debian 12 in systemd-nspawn).
const ADDR = [
  '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
  '1: lo    inet6 ::1/128 scope host \\       valid_lft forever preferred_lft forever',
  '2: eth0    inet 198.18.5.10/24 brd 198.18.5.255 scope global eth0\\       valid_lft forever preferred_lft forever',
  '2: eth0    inet 198.18.5.20/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever',
  '2: eth0    inet6 fe80::784d:b7ff:feb3:607d/64 scope link \\       valid_lft forever preferred_lft forever',
];
const LINK = [
  '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
  '2: eth0@if52: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 7a:4d:b7:b3:60:7d brd ff:ff:ff:ff:ff:ff link-netnsid 0',
];

type Facts = Record<string, any>;

describe('setup', () => {
  test('interfaces: addresses, netmask, network, secondaries, ipv6, mac, mtu', () => {
    const ifs = parseInterfaces(ADDR, LINK);
    expect(Object.keys(ifs)).toEqual(['lo', 'eth0']);
    expect(ifs.eth0).toEqual({
      device: 'eth0',
      active: true,
      mtu: 1500,
      type: 'ether',
      macaddress: '7a:4d:b7:b3:60:7d',
      ipv4: { address: '198.18.5.10', prefix: '24', netmask: '255.255.255.0', network: '198.18.5.0', broadcast: '198.18.5.255' },
      ipv4_secondaries: [{ address: '198.18.5.20', prefix: '24', netmask: '255.255.255.0', network: '198.18.5.0' }],
      ipv6: [{ address: 'fe80::784d:b7ff:feb3:607d', prefix: '64', scope: 'link' }],
    });
    expect(ifs.lo.ipv4).toMatchObject({ address: '127.0.0.1', netmask: '255.0.0.0', network: '127.0.0.0' });
  });

  test('mounts: /proc/mounts with df sizes, octal escapes decoded', () => {
    const mounts = parseMounts(
      ['overlay / overlay rw,relatime 0 0', 'tmpfs /mnt/with\\040space tmpfs rw 0 0', 'proc /proc proc rw 0 0'],
      ['Filesystem 1-blocks Used Available Capacity Mounted on', 'overlay 1000 400 600 40% /', 'tmpfs 50 0 50 0% /mnt/with space'],
    );
    expect(mounts).toEqual([
      { mount: '/', device: 'overlay', fstype: 'overlay', options: 'rw,relatime', size_total: 1000, size_available: 600 },
      { mount: '/mnt/with space', device: 'tmpfs', fstype: 'tmpfs', options: 'rw', size_total: 50, size_available: 50 },
      { mount: '/proc', device: 'proc', fstype: 'proc', options: 'rw' },
    ]);
  });

  test('gathers this machine: memory, processors, distribution, interfaces, mounts', async () => {
    const r = await run(setup, {});
    expect(r.status).toBe('ok');
    const f = r.result.ansible_facts as Facts;
    const osRelease = readFileSync('/etc/os-release', 'utf8');
    const versionId = /^VERSION_ID="?([^"\n]*)/m.exec(osRelease)?.[1] ?? '';
    expect(f.ansible_memtotal_mb).toBe(Math.floor(os.totalmem() / 1024 / 1024));
    expect(f.ansible_processor_vcpus).toBe(os.cpus().length);
    expect(f.ansible_distribution_major_version).toBe(versionId.split('.')[0]);
    expect(f.ansible_hostname).toBe(os.hostname().split('.')[0]);
    expect(f.ansible_interfaces).toContain('lo');
    expect(f.ansible_lo.ipv4.address).toBe('127.0.0.1');
    const root = (f.ansible_mounts as Facts[]).find((m) => m.mount === '/');
    expect(root?.size_total).toBeGreaterThan(0);
  });

  test('gather_subset and filter narrow what is returned', async () => {
    const min = (await run(setup, { gather_subset: ['min'] })).result.ansible_facts as Facts;
    expect(min.ansible_hostname).toBeDefined();
    expect(min.ansible_memtotal_mb).toBeUndefined();
    expect(min.ansible_interfaces).toBeUndefined();
    const noNet = (await run(setup, { gather_subset: '!network' })).result.ansible_facts as Facts;
    expect(noNet.ansible_memtotal_mb).toBeDefined();
    expect(noNet.ansible_lo).toBeUndefined();
    const mem = (await run(setup, { filter: ['ansible_mem*', 'ansible_processor_vcpus'] })).result.ansible_facts as Facts;
    expect(Object.keys(mem).sort()).toEqual(['ansible_memfree_mb', 'ansible_memtotal_mb', 'ansible_processor_vcpus']);
  });

  test('schema: an unknown subset is refused', () => {
    expect(schemaProblems(setup, { gather_subset: ['hardwear'] }).length).toBeGreaterThan(0);
    expect(schemaProblems(setup, { gather_subset: 'min,!hardware' })).toEqual([]);
  });

  test('in a playbook with gather_facts: false, setup provides ansible_* and ansible_facts.* (also in check mode)', async () => {
    const root = await tempTree({
      'pb.yml': [
        '- hosts: localhost',
        '  gather_facts: false',
        '  tasks:',
        '    - setup:',
        '        gather_subset: [hardware]',
        '    - copy:',
        '        dest: "{{ out }}"',
        '        content: "shared_buffers = {{ Math.floor(ansible_memtotal_mb / 4) }}MB {{ ansible_facts.processor_vcpus }} {{ ansible_facts.distribution_major_version }}\\n"',
        '',
      ].join('\n'),
    });
    const out = path.join(root, 'out.conf');
    const check = await plinth(['run', '--check', path.join(root, 'pb.yml'), '-e', `out=${out}`]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const r = await plinth(['run', path.join(root, 'pb.yml'), '-e', `out=${out}`]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const major = /^VERSION_ID="?([^".\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    expect(readFileSync(out, 'utf8')).toBe(`shared_buffers = ${Math.floor(Math.floor(os.totalmem() / 1048576) / 4)}MB ${os.cpus().length} ${major}\n`);
  });
});
