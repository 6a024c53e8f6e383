// The everyday modules on a real Debian host of the lab, over ssh, written the Ansible way and run
// with the CLI as typed: each playbook runs in check mode (which predicts), then for real (which
// changes), then again (0 changed). Needs root and PLINTH_LAB=1; uses the lab named by
// PLINTH_LAB_NAME (never the default one), bringing it up when it is not running.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { acquireLock, type Release } from '../../lab/lock.js';
import { down, execOnHost, status, up } from '../../lab/lab.js';
import { DEFAULT_LAB, StateDir } from '../../lab/state-dir.js';
import { plinth, type CliResult } from '../helpers/cli.js';

const dirs = new StateDir();
const log = (line: string) => process.stderr.write(`  lab: ${line}\n`);

let release: Release;
let ownLab = false;
let host: string;
let address: string;
let inventory: string;
let work: string;

async function onHost(command: string): Promise<string> {
  const r = await execOnHost(host, command);
  if (r.code !== 0) throw new Error(`${host}: \`${command}\` exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Writes the playbook (hosts: the lab host) and runs it with `plinth run`; stdout and stderr joined in failures. */
async function playbook(name: string, tasks: string, ...flags: string[]): Promise<CliResult & { recap: Record<string, number> }> {
  const file = path.join(work, `${name}.yml`);
  await fs.writeFile(file, `- hosts: ${host}\n  gather_facts: false\n  tasks:\n${tasks.replace(/^/gm, '    ').trimEnd()}\n`);
  const r = await plinth(['run', '-i', inventory, file, ...flags]);
  const line = new RegExp(`^${host}\\s*:\\s*(.*)$`, 'm').exec(r.stdout)?.[1] ?? '';
  const recap = Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
  return { ...r, recap };
}

/**
 * Check mode predicts, the first run changes, the second changes nothing. A task that depends on
 * an earlier change check mode cannot apply (a user in a group not created yet) is "unknown".
 */
async function converges(name: string, tasks: string, changes: number, predicted = { changed: changes, unknown: 0 }) {
  const check = await playbook(name, tasks, '--check', '--diff');
  expect(check.code, check.stdout + check.stderr).toBe(0);
  expect({ changed: check.recap.changed, unknown: check.recap.unknown }, check.stdout).toEqual(predicted);
  const first = await playbook(name, tasks, '--diff');
  expect(first.code, first.stdout + first.stderr).toBe(0);
  expect(first.recap.changed, first.stdout).toBe(changes);
  const second = await playbook(name, tasks);
  expect(second.code, second.stdout + second.stderr).toBe(0);
  expect(second.recap.changed, second.stdout).toBe(0);
  return { check, first, second };
}

beforeAll(async () => {
  if (dirs.name === DEFAULT_LAB) throw new Error('lab tests never run on the default lab: set PLINTH_LAB_NAME');
  release = await acquireLock(dirs.suiteLock, { waitMs: 40 * 60_000, what: 'lab test suite' });
  const s = await status();
  ownLab = !s.hosts.some((h) => h.running);
  const lab = ownLab ? await up({ progress: log }) : null;
  const first = lab ? lab.hosts[0] : s.hosts.find((h) => h.running)!;
  host = first.name;
  address = first.address;
  inventory = lab?.inventoryPath ?? (await status()).inventoryPath!;
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-everyday-'));
}, 45 * 60_000);

afterAll(async () => {
  try {
    if (work) await fs.rm(work, { recursive: true, force: true });
    if (ownLab) await down({ progress: log });
  } finally {
    await release?.();
  }
}, 5 * 60_000);

describe('everyday modules on a lab host', { timeout: 10 * 60_000 }, () => {
  test('ping, setup and wait_for over ssh: facts of a Debian 12 host, its sshd port and a file', async () => {
    const r = await playbook(
      'facts',
      [
        '- ping:',
        '  register: p',
        '- setup:',
        '- assert:',
        '    that:',
        '      - "p.ping == \'pong\'"',
        '      - ansible_distribution_major_version == "12"',
        '      - ansible_memtotal_mb > 0 && ansible_facts.processor_vcpus > 0',
        `      - ansible_eth0.ipv4.address == "${address}"`,
        `      - ansible_all_ipv4_addresses.includes("${address}")`,
        '      - ansible_mounts.some(m => m.mount == "/")',
        '- wait_for: { port: 22, search_regex: OpenSSH, timeout: 60 }',
        '- wait_for: { path: /etc/hostname, search_regex: "^(?P<name>[a-z0-9-]+)$" }',
        '  register: hn',
        `- assert: { that: ["hn.match_groupdict.name == '${host}'"] }`,
      ].join('\n'),
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.recap).toMatchObject({ ok: 6, changed: 0, failed: 0 });
    expect(await onHost('hostname')).toBe(host);
  });

  test('group, user with an ssh key pair and a password hash, authorized_key with options; removed again', async () => {
    const keyFile = path.join(work, 'ops_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ops@controller', '-f', keyFile]);
    const publicKey = (await fs.readFile(`${keyFile}.pub`, 'utf8')).trim();
    const hash = '$6$plinthsalt$Hq7v0Sx9Zt3W3T0ZkQ9oU2r0f0b2bYVv9QmG1S6vX0mQ8M2t8QfJb6wY1p7y9oGq5qZ0b0V1Yt3o0X4c2u8p/.';
    const { first } = await converges(
      'accounts',
      [
        '- group: { name: pgadmins, gid: 3107 }',
        '- user:',
        '    name: pgops',
        '    uid: 3107',
        '    group: pgadmins',
        '    groups: [adm]',
        '    shell: /bin/bash',
        '    comment: PostgreSQL operations',
        `    password: '${hash}'`,
        '    generate_ssh_key: true',
        '    ssh_key_type: ed25519',
        '- authorized_key:',
        '    user: pgops',
        `    key: "${publicKey}"`,
        `    key_options: 'from="${address.split('.').slice(0, 3).join('.')}.0/24,127.0.0.1",no-pty'`,
      ].join('\n'),
      3,
      { changed: 1, unknown: 2 },
    );
    expect(first.stdout + first.stderr).not.toContain(hash);
    expect(await onHost('id pgops')).toBe('uid=3107(pgops) gid=3107(pgadmins) groups=3107(pgadmins),4(adm)');
    expect(await onHost('getent shadow pgops | cut -d: -f2')).toBe(hash);
    expect(await onHost('stat -c "%a %U" /home/pgops/.ssh /home/pgops/.ssh/id_ed25519 /home/pgops/.ssh/authorized_keys')).toBe('700 pgops\n600 pgops\n600 pgops');
    expect(await onHost('cat /home/pgops/.ssh/authorized_keys')).toMatch(/^from="[0-9./,]+",no-pty ssh-ed25519 \S+ ops@controller$/);
    // The key logs in: sshd (StrictModes) accepts the directory and file as made.
    const login = spawnSync('ssh', ['-i', keyFile, '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${dirs.knownHosts}`, '-o', 'IdentitiesOnly=yes', `pgops@${address}`, 'id -un'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(login.stdout.trim(), login.stderr).toBe('pgops');

    const removal = await converges('accounts-gone', ['- user: { name: pgops, state: absent, remove: true }', '- group: { name: pgadmins, state: absent }'].join('\n'), 2);
    expect(removal.first.recap.changed).toBe(2);
    expect((await execOnHost(host, 'getent passwd pgops || getent group pgadmins || test -e /home/pgops')).code).not.toBe(0);
  });

  test('package (apt) and service (systemd) the Ansible way; removed again', async () => {
    await onHost('printf "[Unit]\\nDescription=plinth test\\n[Service]\\nExecStart=/bin/sleep infinity\\n[Install]\\nWantedBy=multi-user.target\\n" > /etc/systemd/system/plinth-everyday.service');
    try {
      await converges('services', ['- package: { name: [jq], state: present }', '- service: { name: plinth-everyday, state: started, enabled: true }'].join('\n'), 2);
      expect(await onHost('jq --version; systemctl is-active plinth-everyday; systemctl is-enabled plinth-everyday')).toMatch(/^jq-1\.\S+\nactive\nenabled$/);
      await converges('services-gone', ['- service: { name: plinth-everyday, state: stopped, enabled: false }', '- package: { name: jq, state: removed }'].join('\n'), 2);
      expect((await execOnHost(host, 'command -v jq')).code).not.toBe(0);
    } finally {
      await execOnHost(host, 'systemctl disable --now plinth-everyday; rm -f /etc/systemd/system/plinth-everyday.service; systemctl daemon-reload');
    }
  });

  test('replace and sysctl in files on the host (a container: the kernel values themselves are tested in a namespace of the unit suite)', async () => {
    await onHost('printf "listen_addresses = \'localhost\'\\nport = 5432\\n" > /tmp/plinth-everyday.conf');
    try {
      await converges(
        'files',
        [
          '- replace: { path: /tmp/plinth-everyday.conf, regexp: "^listen_addresses = \'.*\'$", replace: "listen_addresses = \'*\'" }',
          '- sysctl: { name: vm.overcommit_memory, value: 2, sysctl_file: /etc/sysctl.d/30-plinth-everyday.conf, reload: false }',
        ].join('\n'),
        2,
      );
      expect(await onHost('cat /tmp/plinth-everyday.conf /etc/sysctl.d/30-plinth-everyday.conf')).toBe("listen_addresses = '*'\nport = 5432\nvm.overcommit_memory=2");
    } finally {
      await execOnHost(host, 'rm -f /tmp/plinth-everyday.conf /etc/sysctl.d/30-plinth-everyday.conf');
    }
  });

  test('hostname, timezone, cron.d and service_facts; each set back afterwards', async () => {
    const zone = await onHost('cat /etc/timezone');
    try {
      const { first } = await converges(
        'system',
        [
          `- hostname: { name: ${host}-renamed }`,
          '- timezone: { name: Europe/Berlin }',
          '- cron: { name: vacuum, job: "vacuumdb --all --analyze", minute: 30, hour: 3, user: postgres, cron_file: plinth-everyday }',
        ].join('\n'),
        3,
      );
      expect(first.stdout).toContain(`hostname ${host} → ${host}-renamed`);
      expect(await onHost('hostname; cat /etc/hostname; readlink /etc/localtime; cat /etc/timezone; date +%Z; cat /etc/cron.d/plinth-everyday')).toBe(
        `${host}-renamed\n${host}-renamed\n/usr/share/zoneinfo/Europe/Berlin\nEurope/Berlin\n${await onHost('TZ=Europe/Berlin date +%Z')}\n#Ansible: vacuum\n30 3 * * * postgres vacuumdb --all --analyze`,
      );
      const facts = await playbook(
        'services',
        ['- service_facts:', '- assert:', '    that:', '      - ansible_facts.services["ssh.service"].state == "running"', '      - ansible_facts.services["ssh.service"].status == "enabled"'].join(
          '\n',
        ),
      );
      expect(facts.code, facts.stdout + facts.stderr).toBe(0);
    } finally {
      await execOnHost(host, `hostname ${host}; echo ${host} > /etc/hostname; ln -sfn /usr/share/zoneinfo/${zone} /etc/localtime; echo ${zone} > /etc/timezone; rm -f /etc/cron.d/plinth-everyday`);
    }
  });

  test('apt: a local .deb, default_release, autoremove', async () => {
    const pkg = path.join(work, 'deb');
    await fs.mkdir(path.join(pkg, 'DEBIAN'), { recursive: true });
    await fs.writeFile(
      path.join(pkg, 'DEBIAN', 'control'),
      'Package: plinth-everyday\nVersion: 1.0-1\nArchitecture: all\nMaintainer: plinth tests <root@localhost>\nDescription: a package the lab test builds\n',
    );
    execFileSync('dpkg-deb', ['--root-owner-group', '--build', pkg, path.join(work, 'plinth-everyday_1.0-1_all.deb')], { stdio: 'ignore' });
    try {
      const copied = await playbook('deb-copy', `- copy: { src: ${path.join(work, 'plinth-everyday_1.0-1_all.deb')}, dest: /tmp/plinth-everyday_1.0-1_all.deb }`);
      expect(copied.code, copied.stdout + copied.stderr).toBe(0);
      const deb = await converges('deb', '- apt: { deb: /tmp/plinth-everyday_1.0-1_all.deb }', 1);
      expect(deb.check.stdout).toContain('install /tmp/plinth-everyday_1.0-1_all.deb (1.0-1)');
      expect(await onHost("dpkg-query -W -f '${Version}' plinth-everyday")).toBe('1.0-1');
      // default_release decides the candidate: the plan names the version that release offers.
      for (const release of ['bookworm', 'bookworm-security']) {
        const candidate = /Candidate: (\S+)/.exec(await onHost(`apt-cache -t ${release} policy jq`))?.[1];
        const plan = await playbook(`release-${release}`, `- apt: { name: jq, default_release: ${release} }`, '--check');
        expect(plan.stdout).toContain(`install jq (${candidate})`);
      }
      await converges('release', '- apt: { name: jq, default_release: bookworm-security }', 1);
      await onHost('DEBIAN_FRONTEND=noninteractive apt-get remove -y -q jq >/dev/null');
      const auto = await converges('autoremove', '- apt: { autoremove: true }', 1);
      expect(auto.first.stdout).toMatch(/autoremove .*libjq1/);
      expect((await execOnHost(host, 'dpkg-query -W -f "${Status}" libjq1 | grep -q "install ok installed"')).code).not.toBe(0);
    } finally {
      await execOnHost(host, 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q plinth-everyday >/dev/null; rm -f /tmp/plinth-everyday_1.0-1_all.deb');
    }
  });

  test('apt_repository and deb822_repository: files apt itself accepts; removed again', async () => {
    const key = '/usr/share/keyrings/debian-archive-bookworm-stable.gpg';
    try {
      await converges(
        'sources',
        [
          `- apt_repository: { repo: "deb [signed-by=${key}] http://deb.debian.org/debian bookworm-backports main", filename: plinth-everyday, update_cache: false }`,
          `- deb822_repository: { name: plinth-everyday, uris: http://deb.debian.org/debian, suites: bookworm-backports, components: [main, contrib], signed_by: ${key}, enabled: false }`,
        ].join('\n'),
        2,
      );
      expect(await onHost('cat /etc/apt/sources.list.d/plinth-everyday.list /etc/apt/sources.list.d/plinth-everyday.sources')).toBe(
        `deb [signed-by=${key}] http://deb.debian.org/debian bookworm-backports main\nX-Repolib-Name: plinth-everyday\nTypes: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main contrib\nEnabled: no\nSigned-By: ${key}`,
      );
      // apt reads both files without a complaint (a malformed entry is an error here).
      const apt = await execOnHost(host, 'apt-get update --print-uris 2>&1');
      expect(apt.stdout).toContain("'http://deb.debian.org/debian/dists/bookworm-backports/InRelease'");
      expect(apt.stdout).not.toMatch(/^(E|W):/m);
      await converges(
        'sources-gone',
        [
          `- apt_repository: { repo: "deb [signed-by=${key}] http://deb.debian.org/debian bookworm-backports main", filename: plinth-everyday, state: absent, update_cache: false }`,
          '- deb822_repository: { name: plinth-everyday, state: absent }',
        ].join('\n'),
        2,
      );
      // A .list file left with no line is removed, as Ansible removes it.
      expect(await onHost('for f in plinth-everyday.list plinth-everyday.sources; do test -e /etc/apt/sources.list.d/$f || echo $f gone; done')).toBe(
        'plinth-everyday.list gone\nplinth-everyday.sources gone',
      );
    } finally {
      await execOnHost(host, 'rm -f /etc/apt/sources.list.d/plinth-everyday.list /etc/apt/sources.list.d/plinth-everyday.sources');
    }
  });

  test('plinth adhoc against the lab inventory: facts, a command, a change with check and diff, become', async () => {
    const facts = await plinth(['adhoc', 'all', '-i', inventory, '-m', 'setup', '-a', 'filter=ansible_distribution_major_version']);
    expect(facts.stdout, facts.stderr).toContain(`${host} | SUCCESS => {"ansible_facts":{"ansible_distribution_major_version":"12"}}`);
    const cmd = await plinth(['adhoc', host, '-i', inventory, '-a', 'cat /etc/hostname']);
    expect(cmd.stdout).toBe(`${host} | CHANGED | rc=0 >>\n${host}\n`);
    const args = ['adhoc', host, '-i', inventory, '-b', '-m', 'group', '-a', 'name=plinth_adhoc gid=3199'];
    try {
      const check = await plinth([...args, '--check', '--diff']);
      expect(check.stdout).toContain(`${host} | CHANGED (check mode) | create group plinth_adhoc (gid 3199)`);
      expect((await execOnHost(host, 'getent group plinth_adhoc')).code).not.toBe(0);
      expect((await plinth(args)).stdout).toContain(`${host} | CHANGED | create group plinth_adhoc (gid 3199)`);
      expect((await plinth(args)).stdout).toMatch(new RegExp(`^${host} \\| SUCCESS => `));
      expect(await onHost('getent group plinth_adhoc')).toBe('plinth_adhoc:x:3199:');
    } finally {
      await execOnHost(host, 'groupdel plinth_adhoc');
    }
  });

  test('locale_gen and unarchive (an archive from the controller, over ssh); removed again', async () => {
    const src = path.join(work, 'tools');
    await fs.mkdir(path.join(src, 'pgpool-tools', 'bin'), { recursive: true });
    await fs.writeFile(path.join(src, 'pgpool-tools', 'bin', 'follow_primary.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    execFileSync('tar', ['-czf', path.join(work, 'pgpool-tools.tar.gz'), '-C', src, 'pgpool-tools']);
    try {
      await onHost('mkdir -p /opt/plinth-everyday');
      await converges(
        'locale-archive',
        ['- locale_gen: { name: de_DE.UTF-8 }', `- unarchive: { src: ${path.join(work, 'pgpool-tools.tar.gz')}, dest: /opt/plinth-everyday, owner: daemon }`].join('\n'),
        2,
      );
      expect(await onHost('locale -a | grep -x de_DE.utf8; stat -c "%U %a" /opt/plinth-everyday/pgpool-tools/bin/follow_primary.sh')).toBe('de_DE.utf8\ndaemon 755');
      await converges('locale-gone', '- locale_gen: { name: de_DE.UTF-8, state: absent }', 1);
      expect((await execOnHost(host, 'locale -a | grep -x de_DE.utf8')).code).not.toBe(0);
    } finally {
      await execOnHost(host, 'rm -rf /opt/plinth-everyday; sed -i "/^de_DE.UTF-8/d" /etc/locale.gen; locale-gen >/dev/null');
    }
  });

  test('a host without curl or unzip: uri and get_url through the ssh connection, synchronize with delete, a zip archive', async () => {
    expect((await execOnHost(host, 'command -v curl || command -v wget || command -v unzip || command -v rsync')).code, 'the lab base has none of them').not.toBe(0);
    const tarball = Buffer.from('pgpool-II 4.5.4 release\n');
    const sha256 = createHash('sha256').update(tarball).digest('hex');
    const clients = new Set<string>();
    const server = createServer((req, res) => {
      clients.add(req.socket.remoteAddress ?? '');
      if (req.url === '/status') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ primary: 'pg-primary', standbys: 2 }));
      } else if (req.url === '/pgpool-II-4.5.4.tar.gz') res.end(tarball);
      else {
        res.writeHead(404);
        res.end();
      }
    });
    // The controller's side of the lab's bridge: the host reaches it, as it would a mirror.
    const gateway = address.replace(/\.\d+$/, '.1');
    await new Promise<void>((r) => server.listen(0, gateway, r));
    const base = `http://${gateway}:${(server.address() as { port: number }).port}`;
    const site = path.join(work, 'site');
    await fs.mkdir(path.join(site, 'css'), { recursive: true });
    await fs.writeFile(path.join(site, 'index.html'), '<h1>pgpool status</h1>\n');
    await fs.writeFile(path.join(site, 'css', 'site.css'), 'body { margin: 0 }\n');
    const zipSrc = path.join(work, 'zip-src');
    await fs.mkdir(path.join(zipSrc, 'pgpool-tools', 'bin'), { recursive: true });
    await fs.writeFile(path.join(zipSrc, 'pgpool-tools', 'bin', 'follow_primary.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    execFileSync('zip', ['-q', '-r', '-X', path.join(work, 'pgpool-tools.zip'), 'pgpool-tools'], { cwd: zipSrc });
    try {
      await onHost('mkdir -p /opt/plinth-everyday-zip /opt/plinth-everyday-www && echo stale > /opt/plinth-everyday-www/old.html');
      await converges(
        'no-curl',
        [
          `- uri: { url: "${base}/status" }`,
          '  register: pool',
          '- assert: { that: ["pool.status == 200 && pool.json.primary == \'pg-primary\'"] }',
          `- get_url: { url: "${base}/pgpool-II-4.5.4.tar.gz", dest: /opt/plinth-everyday-zip/pgpool.tar.gz, checksum: "sha256:${sha256}", mode: "0640" }`,
          `- ansible.posix.synchronize: { src: "${site}/", dest: /opt/plinth-everyday-www, delete: yes }`,
          `- unarchive: { src: "${path.join(work, 'pgpool-tools.zip')}", dest: /opt/plinth-everyday-zip }`,
        ].join('\n'),
        3,
      );
      // The requests came from the lab host, not from the controller.
      expect([...clients]).toEqual([address]);
      expect(await onHost('cd /opt/plinth-everyday-zip && sha256sum pgpool.tar.gz && stat -c "%a %n" pgpool.tar.gz pgpool-tools/bin/follow_primary.sh')).toBe(
        `${sha256}  pgpool.tar.gz\n640 pgpool.tar.gz\n755 pgpool-tools/bin/follow_primary.sh`,
      );
      expect(await onHost('cd /opt/plinth-everyday-www && find . -mindepth 1 | sort && cat index.html')).toBe('./css\n./css/site.css\n./index.html\n<h1>pgpool status</h1>');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await execOnHost(host, 'rm -rf /opt/plinth-everyday-zip /opt/plinth-everyday-www');
    }
  });

  test('mount: a tmpfs in fstab and mounted, remounted with new options, then absent', async () => {
    const fstab = await onHost('cat /etc/fstab 2>/dev/null || true');
    try {
      await converges('mount', '- mount: { path: /mnt/plinth everyday, src: tmpfs, fstype: tmpfs, opts: size=1m, state: mounted }', 1);
      expect(await onHost("grep -F 'plinth\\040everyday' /etc/fstab; findmnt -n -o FSTYPE,OPTIONS '/mnt/plinth everyday'")).toMatch(
        /^tmpfs \/mnt\/plinth\\040everyday tmpfs size=1m 0 0\ntmpfs\s+\S*size=1024k/,
      );
      await converges('remount', '- mount: { path: /mnt/plinth everyday, src: tmpfs, fstype: tmpfs, opts: size=2m, state: mounted }', 1);
      expect(await onHost("findmnt -n -o OPTIONS '/mnt/plinth everyday'")).toContain('size=2048k');
      await converges('unmount', '- mount: { path: /mnt/plinth everyday, state: absent }', 1);
      expect((await execOnHost(host, "findmnt '/mnt/plinth everyday' || test -e '/mnt/plinth everyday' || grep -q plinth /etc/fstab")).code).not.toBe(0);
    } finally {
      await execOnHost(host, "umount '/mnt/plinth everyday' 2>/dev/null; rmdir '/mnt/plinth everyday' 2>/dev/null; sed -i '/plinth.040everyday/d' /etc/fstab");
    }
    expect(await onHost('cat /etc/fstab 2>/dev/null || true')).toBe(fstab);
  });

  test('modprobe: the files that load a module at boot, written and removed (a container loads no modules)', async () => {
    try {
      await converges('modprobe', "- modprobe: { name: softdog, state: absent, params: 'soft_margin=60', persistent: present }", 1);
      expect(await onHost('cat /etc/modules-load.d/softdog.conf /etc/modprobe.d/softdog.conf')).toBe('softdog\noptions softdog soft_margin=60');
      await converges('modprobe-gone', '- modprobe: { name: softdog, state: absent, persistent: absent }', 1);
      expect((await execOnHost(host, 'ls /etc/modules-load.d/softdog.conf /etc/modprobe.d/softdog.conf')).code).not.toBe(0);
    } finally {
      await execOnHost(host, 'rm -f /etc/modules-load.d/softdog.conf /etc/modprobe.d/softdog.conf');
    }
  });
});
