// The validators compiled at build time (scripts/build-validators.mjs, ajv standalone code) must
// judge every input exactly as ajv compiling the same schema at run time: same verdict, same
// errors (the messages users read are made from them), same defaults filled in.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import type { ValidateFunction } from 'ajv';
import { ajv, precompiledName } from '../../../engine/schema-validation.js';
import { inventorySchema, playSchema, roleMetaSchema } from '../../../engine/load/user-file-schemas.js';
import { keywordSchemas } from '../../../engine/load/keywords.js';
import { allModules } from '../../../modules/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// Inside the repository, so that the generated file finds ajv's runtime in node_modules.
const dir = mkdtempSync(path.join(root, '.dist-build-validators-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Builds the validators into a folder of their own; returns the one of a schema, if built. */
function build(): (schema: Record<string, unknown>) => ValidateFunction | undefined {
  const out = path.join(dir, 'validators');
  // dist/ is built by test/global-setup.ts.
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-validators.mjs'), path.join(root, 'dist'), out], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const load = createRequire(import.meta.url);
  return (schema) => {
    const file = path.join(out, `${precompiledName(schema)}.cjs`);
    return existsSync(file) ? (load(file) as ValidateFunction) : undefined;
  };
}

/** The verdict, the errors and the data after defaults, of one validator on a copy of data. */
function judge(fn: ValidateFunction, data: unknown) {
  const copy = structuredClone(data);
  const valid = fn(copy);
  const errors = (fn.errors ?? []).map((e) => ({ path: e.instancePath, keyword: e.keyword, params: e.params, message: e.message, parentSchema: e.parentSchema }));
  return { valid, errors, copy };
}

describe('validators compiled at build time', () => {
  const precompiledFor = build();

  test("every module's arguments, plays, inventories, role meta and keyword values have one, and they judge as ajv does", async () => {
    const modules = await allModules();
    const samples: [string, Record<string, unknown>, unknown[]][] = [
      ...[...modules.values()].map((m): [string, Record<string, unknown>, unknown[]] => [
        `module ${m.name}`,
        m.schema,
        [{}, { no_such_argument: 1 }, { name: 7, path: ['x'], state: 'nonsense', mode: 644, dest: '/etc/x', content: 'a', src: 'b' }, { cmd: 'true' }, { name: 'pkg', state: 'present' }],
      ]),
      ['play', playSchema, [{ hosts: 'all', tasks: [] }, { hosts: 'all', become: 'maybe', serial: [1, '50%'] }, { tasks: [] }, { hosts: 'all', bogus: 1 }]],
      ['inventory', inventorySchema, [{ all: { hosts: { a: null }, children: { g: { hosts: { b: { ansible_port: 22 } } } } } }, { all: { host: {} } }, []]],
      ['role meta', roleMetaSchema, [{}, { dependencies: ['x'] }, { dependencies: 3 }, { argument_specs: { main: { options: { a: { type: 'str' } } } } }]],
      ...Object.entries(keywordSchemas('task')).map(([k, s]): [string, Record<string, unknown>, unknown[]] => [`keyword ${k}`, s, ['x', 3, true, ['a', 1], { a: 1 }, null]]),
    ];
    for (const [label, schema, inputs] of samples) {
      const fn = precompiledFor(schema);
      expect(fn, `${label}: no precompiled validator`).toBeTypeOf('function');
      const runtime = ajv().compile(schema);
      for (const input of inputs) expect(judge(fn!, input), `${label}: ${JSON.stringify(input)}`).toEqual(judge(runtime, input));
    }
  });
});
