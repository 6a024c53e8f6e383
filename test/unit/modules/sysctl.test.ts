// sysctl: file edits as a table, a real sysctl file in a temp dir (check, apply, again), and the
// running kernel read (never written here: the lab test sets kernel values on a lab host).
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Host } from '../../../engine/types.js';
import { editSysctlFile, normalizeSysctlValue, sysctl } from '../../../modules/sysctl.js';
import { checkApplyAgain, localHost, run, schemaProblems } from '../../helpers/modules.js';

const root = process.getuid?.() === 0;

/** This machine, with every command run in a network namespace of the test's own: its net.* keys can be set for real. */
function inNamespace(ns: string): Host {
  return new Proxy(localHost, {
    get(target, prop) {
      if (prop === 'exec') return (argv: string[], opts?: object) => target.exec(['ip', 'netns', 'exec', ns, ...argv], opts);
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('sysctl', () => {
  test.each([
    ['appends', ['# kernel\n'], 'vm.swappiness', '10', ['# kernel\n', 'vm.swappiness=10\n']],
    ['replaces the first, drops duplicates', ['vm.swappiness = 60\n', 'x=1\n', 'vm.swappiness=30\n'], 'vm.swappiness', '10', ['vm.swappiness=10\n', 'x=1\n']],
    ['same value in another spelling stays', ['vm.overcommit_memory = 2\n'], 'vm.overcommit_memory', '2', ['vm.overcommit_memory = 2\n']],
    ['removes', ['a=1\n', 'kernel.shmmax = 1\n'], 'kernel.shmmax', null, ['a=1\n']],
    ['a commented line is not the setting', ['#vm.swappiness=1\n'], 'vm.swappiness', '5', ['#vm.swappiness=1\n', 'vm.swappiness=5\n']],
  ])('%s', (_n, lines, name, value, expected) => {
    expect(editSysctlFile(lines, name, value).lines).toEqual(expected);
  });

  test('values compare as Ansible compares them', () => {
    expect(normalizeSysctlValue('yes')).toBe('1');
    expect(normalizeSysctlValue(false)).toBe('0');
    expect(normalizeSysctlValue('4096\t87380   6291456')).toBe('4096 87380 6291456');
    expect(normalizeSysctlValue(17179869184)).toBe('17179869184');
  });

  test('a sysctl.d file for PostgreSQL: check, apply, again; then absent', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-sysctl-'));
    const file = path.join(dir, 'sysctl.d', '30-postgresql.conf');
    const args = { name: 'kernel.shmmax', value: 17179869184, sysctl_file: file, reload: false };
    const { check, first, second } = await checkApplyAgain(sysctl, args);
    expect(check).toMatchObject({ status: 'changed', summary: `kernel.shmmax=17179869184 in ${file}`, diffs: [{ before: '', after: 'kernel.shmmax=17179869184\n' }] });
    expect(first.status).toBe('changed');
    expect(second.status).toBe('ok');
    await run(sysctl, { name: 'vm.overcommit_memory', value: '2', sysctl_file: file, reload: false });
    expect(await fs.readFile(file, 'utf8')).toBe('kernel.shmmax=17179869184\nvm.overcommit_memory=2\n');
    const absent = await run(sysctl, { name: 'kernel.shmmax', state: 'absent', sysctl_file: file, reload: false });
    expect(absent.status).toBe('changed');
    expect(await fs.readFile(file, 'utf8')).toBe('vm.overcommit_memory=2\n');
    await fs.rm(dir, { recursive: true });
  });

  test('sysctl_set compares with the running kernel (check mode only here)', async () => {
    const current = (await fs.readFile('/proc/sys/vm/swappiness', 'utf8')).trim();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-sysctl-'));
    const file = path.join(dir, 'x.conf');
    await fs.writeFile(file, `vm.swappiness=${current}\n`);
    const same = await run(sysctl, { name: 'vm.swappiness', value: current, sysctl_file: file, sysctl_set: true }, { check: true });
    expect(same.status).toBe('ok');
    const other = String((Number(current) + 1) % 100);
    const differs = await run(sysctl, { name: 'vm.swappiness', value: other, sysctl_file: file, sysctl_set: true }, { check: true });
    expect(differs).toMatchObject({ status: 'changed', predicted: true });
    expect(differs.diffs.find((d) => d.target === 'kernel vm.swappiness')).toEqual({ target: 'kernel vm.swappiness', before: `${current}\n`, after: `${other}\n` });
    await fs.rm(dir, { recursive: true });
  });

  test('value is required with state present; names are checked', async () => {
    await expect(run(sysctl, { name: 'vm.swappiness', sysctl_file: '/tmp/none.conf' })).rejects.toThrow(': value is required with state present');
    expect(schemaProblems(sysctl, { name: 'vm swappiness', value: 1 }).length).toBeGreaterThan(0);
  });

  describe.runIf(root)('in a network namespace of its own: the running kernel set and the file reloaded', () => {
    const ns = `plinth-sysctl-${process.pid}`;
    beforeAll(() => execFileSync('ip', ['netns', 'add', ns]));
    afterAll(() => execFileSync('ip', ['netns', 'del', ns]));

    test('sysctl_set: check predicts, the run sets the kernel, again is ok; reload loads the file', async () => {
      const host = inNamespace(ns);
      const kernel = () => execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-n', 'net.ipv4.tcp_keepalive_time'], { encoding: 'utf8' }).trim();
      const before = kernel();
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-sysctl-'));
      const file = path.join(dir, '30-keepalive.conf');
      const wanted = before === '600' ? '601' : '600';
      const { check, first, second } = await checkApplyAgain(sysctl, { name: 'net.ipv4.tcp_keepalive_time', value: wanted, sysctl_file: file, sysctl_set: true }, { host });
      expect(check).toMatchObject({ status: 'changed', summary: `net.ipv4.tcp_keepalive_time=${wanted} in ${file}, set net.ipv4.tcp_keepalive_time to ${wanted} in the kernel, reload ${file}` });
      expect(kernel()).toBe(wanted);
      expect(first.status).toBe('changed');
      expect(second.status).toBe('ok');
      // reload alone: the file changes, the kernel follows without sysctl_set.
      await run(sysctl, { name: 'net.ipv4.tcp_keepalive_time', value: 900, sysctl_file: file }, { host });
      expect(kernel()).toBe('900');
      // A key the kernel refuses fails the reload with sysctl's own words.
      await expect(run(sysctl, { name: 'net.ipv4.no_such_key', value: 1, sysctl_file: file }, { host })).rejects.toThrow(/sysctl -p .* failed: .*no_such_key/);
      await fs.rm(dir, { recursive: true });
    });
  });
});
