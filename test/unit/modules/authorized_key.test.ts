// authorized_key: line parsing and edits as tables, then a real file (root's keys in a temp
// path, so this machine's own authorized_keys are never touched): check, apply, again.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { authorized_key, editAuthorizedKeys, parseKeyLine } from '../../../modules/authorized_key.js';
import { checkApplyAgain, run } from '../../helpers/modules.js';

const A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyOfPostgresOnPrimary postgres@pg-primary';
const B = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyOfPostgresOnReplica postgres@pg-replica-1';
const C = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQOldKey old@laptop';
const base = { user: 'postgres', state: 'present' as const, exclusive: false, manage_dir: true };

describe('authorized_key', () => {
  test('parses options with quoted spaces, type, blob and a comment with spaces', () => {
    expect(parseKeyLine('from="10.0.0.1,10.0.0.2",command="echo hi there" ssh-ed25519 AAAAblob my laptop key\n')).toEqual({
      options: 'from="10.0.0.1,10.0.0.2",command="echo hi there"',
      type: 'ssh-ed25519',
      blob: 'AAAAblob',
      comment: 'my laptop key',
    });
    expect(parseKeyLine('# a comment')).toBeNull();
    expect(parseKeyLine('not a key')).toBeNull();
  });

  test.each([
    ['appends a missing key', [`${C}\n`], { key: A }, [`${C}\n`, `${A}\n`]],
    ['a key already there is left alone', [`${A}\n`], { key: A }, [`${A}\n`]],
    ['same blob, new options: the line is rewritten, not doubled', [`${A}\n`], { key: A, key_options: 'no-pty,from="198.18.0.0/15"' }, [`no-pty,from="198.18.0.0/15" ${A}\n`]],
    ['several keys at once', [], { key: `${A}\n${B}\n` }, [`${A}\n`, `${B}\n`]],
    ['exclusive drops other keys, keeps comments', ['# managed\n', `${C}\n`, `${A}\n`], { key: `${A}\n${B}`, exclusive: true }, ['# managed\n', `${A}\n`, `${B}\n`]],
    ['absent removes by blob whatever the comment', [`${C}\n`, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyOfPostgresOnPrimary other comment\n'], { key: A, state: 'absent' as const }, [`${C}\n`]],
    ['comment replaces the key comment', [], { key: A, comment: 'failover' }, ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyOfPostgresOnPrimary failover\n']],
    ['a last line without newline gets one', [C], { key: A }, [`${C}\n`, `${A}\n`]],
  ])('%s', (_name, lines, args, expected) => {
    expect(editAuthorizedKeys(lines, { ...base, ...args })).toEqual(expected);
  });

  test('an invalid key is refused', () => {
    expect(() => editAuthorizedKeys([], { ...base, key: 'ssh-ed25519' })).toThrow('authorized_key: invalid key specified: ssh-ed25519');
  });

  test('a real file: .ssh made 0700, the file 0600; check predicts, the run writes, the second run is ok', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-akey-'));
    const file = path.join(dir, 'dot-ssh', 'authorized_keys');
    const user = os.userInfo().username;
    const args = { user, path: file, key: `${A}\n${B}`, key_options: 'no-agent-forwarding' };
    const { check, first, second } = await checkApplyAgain(authorized_key, args);
    expect(check).toMatchObject({ status: 'changed', summary: `create ${path.dirname(file)} (0700), create ${file} (0600)` });
    expect(first.status).toBe('changed');
    expect(second.status).toBe('ok');
    expect(await fs.readFile(file, 'utf8')).toBe(`no-agent-forwarding ${A}\nno-agent-forwarding ${B}\n`);
    expect(((await fs.stat(path.dirname(file))).mode & 0o777).toString(8)).toBe('700');
    expect(((await fs.stat(file)).mode & 0o777).toString(8)).toBe('600');
    const exclusive = await run(authorized_key, { user, path: file, key: B, exclusive: true });
    expect(exclusive.diffs[0]).toMatchObject({ before: `no-agent-forwarding ${A}\nno-agent-forwarding ${B}\n`, after: `no-agent-forwarding ${B}\n` });
    await fs.rm(dir, { recursive: true });
  });

  test('a user that does not exist', async () => {
    await expect(run(authorized_key, { user: 'no_such_user_plinth', key: A })).rejects.toThrow('authorized_key: user no_such_user_plinth does not exist');
  });
});
