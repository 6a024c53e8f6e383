// A plan file is shared in a pull request: the digests it keeps of -e values must not let anyone
// test guesses of a secret against it. Every digest is keyed with the plan's own random salt.
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { localInventory, plinth, tempTree } from '../../helpers/cli.js';
import type { PlanFile } from '../../../engine/plan/plan-file.js';

const made: string[] = [];
afterAll(async () => {
  for (const d of made) await fs.rm(d, { recursive: true, force: true });
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('plan digests of -e values', () => {
  it('are salted: the plan holds neither the secret nor an unsalted digest of it, and apply still checks the -e', async () => {
    const secret = 'hunter2-correct-horse';
    const state = await tempTree();
    const dir = await tempTree({
      'inventory.yml': localInventory(['h1'], `  vars:\n    state: ${state}\n`),
      'site.yml': `- hosts: all
  gather_facts: false
  tasks:
    - name: the app's settings
      copy:
        content: "user = app\\npassword = {{ db_password }}\\n"
        dest: "{{ state }}/app.env"
        mode: "0600"
`,
    });
    made.push(state, dir);
    const e = ['-e', `db_password=${secret}`];
    const plans: PlanFile[] = [];
    const texts: string[] = [];
    for (const out of ['a.json', 'b.json']) {
      const r = await plinth(['plan', '-i', 'inventory.yml', 'site.yml', ...e, '-o', out], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      texts.push(await fs.readFile(path.join(dir, out), 'utf8'));
      plans.push(JSON.parse(texts[texts.length - 1]) as PlanFile);
    }
    const unsalted = [sha256(JSON.stringify({ db_password: secret })), sha256(`{"db_password":${JSON.stringify(secret)}}`), sha256(secret), sha256(JSON.stringify(secret))];
    for (const text of texts) {
      expect(text).not.toContain(secret);
      for (const digest of unsalted) {
        expect(text).not.toContain(digest.slice(0, 32));
        expect(text).not.toContain(digest.slice(0, 12));
      }
    }
    // Each plan has a salt of its own: the same -e gives two unrelated digests.
    expect(plans[0].salt).toMatch(/^[0-9a-f]{32}$/);
    expect(plans[0].salt).not.toBe(plans[1].salt);
    expect(plans[0].extraVarsDigest).not.toBe(plans[1].extraVarsDigest);

    const other = await plinth(['apply', 'a.json', '-e', 'db_password=something-else'], { cwd: dir });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('the extra vars (-e) differ from the ones the plan was made with');
    const applied = await plinth(['apply', 'a.json', ...e], { cwd: dir });
    expect(applied.code, applied.stderr).toBe(0);
    expect(await fs.readFile(path.join(state, 'app.env'), 'utf8')).toBe(`user = app\npassword = ${secret}\n`);
  });
});
