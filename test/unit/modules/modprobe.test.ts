// modprobe: what is loaded is read from this machine's /sys/module (check mode only: nothing is
// loaded here); the lab test writes and removes the persistence files on a Debian host.
import { readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { modprobe } from '../../../modules/modprobe.js';
import { run, schemaProblems } from '../../helpers/modules.js';

describe('modprobe', () => {
  test('a module the kernel has is ok; one it has not would be loaded (check mode)', async () => {
    const loaded = readdirSync('/sys/module')[0];
    expect((await run(modprobe, { name: loaded }, { check: true })).status).toBe('ok');
    const missing = await run(modprobe, { name: 'plinth_not_a_module' }, { check: true });
    expect(missing).toMatchObject({ status: 'changed', summary: 'load plinth_not_a_module', diffs: [{ before: 'not loaded\n', after: 'loaded\n' }] });
    expect((await run(modprobe, { name: 'plinth_not_a_module', state: 'absent' }, { check: true })).status).toBe('ok');
  });

  test('schema: a name is one word', () => {
    expect(schemaProblems(modprobe, { name: 'a b' }).length).toBeGreaterThan(0);
  });
});
