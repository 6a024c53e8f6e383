import { describe, expect, test } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { publishedSchemas } from '../../engine/load/published-schemas.js';
import { allModules } from '../../modules/index.js';
import { ajv } from '../../engine/schema-validation.js';
import { PLINTH_ROOT } from '../../engine/paths.js';

const generated = publishedSchemas(await allModules());

describe('published JSON Schemas', () => {
  test.each(Object.keys(generated))('schemas/%s is up to date (npm run schemas)', async (name) => {
    const onDisk = JSON.parse(await fs.readFile(path.join(PLINTH_ROOT, 'schemas', name), 'utf8'));
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(generated[name])));
  });

  test('the playbooks in playbooks/ validate against playbook.schema.json', async () => {
    const validate = ajv().compile({ ...generated['playbook.schema.json'], $id: 'test:playbook' });
    const dir = path.join(PLINTH_ROOT, 'playbooks');
    const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.yml'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const ok = validate(parse(await fs.readFile(path.join(dir, f), 'utf8')));
      expect(ok, `${f}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
    }
  });

  test('an unquoted file mode is rejected by the published schema', () => {
    const validate = ajv().compile({ ...generated['playbook.schema.json'], $id: 'test:playbook2' });
    const play = [{ hosts: 'all', tasks: [{ file: { path: '/x', mode: 600 } }] }];
    expect(validate(play)).toBe(false);
    play[0].tasks[0].file.mode = '0600' as unknown as number;
    expect(validate(play)).toBe(true);
  });
});
