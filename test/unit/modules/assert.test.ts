import { describe, expect, test } from 'vitest';
import { assert } from '../../../modules/assert.js';
import { ModuleError } from '../../../engine/types.js';
import { run, schemaProblems } from '../../helpers/modules.js';

const vars = { port: 5432, conf: { stdout: 'replica = r3\n' }, hosts: ['a', 'b'] };

describe('assert', () => {
  test.each([
    { name: 'one true expression', that: 'port > 1024' },
    { name: 'a list of true expressions', that: ['port === 5432', "conf.stdout.includes('replica = r3')", 'hosts.length == 2'] },
    { name: 'a boolean from a templated value', that: [true] },
  ])('passes: $name', async ({ that }) => {
    for (const check of [true, false]) {
      const r = await run(assert, { that }, { vars, check });
      expect(r.status).toBe('ok');
      expect(r.result.msg).toBe('All assertions passed');
    }
  });

  test.each([
    { name: 'the false expression is named', args: { that: ['port > 1024', 'hosts.length > 5'] }, error: /^Assertion failed: hosts\.length > 5$/ },
    { name: 'fail_msg is used', args: { that: 'port < 1024', fail_msg: 'port must be privileged' }, error: /^port must be privileged \(assertion: port < 1024\)$/ },
    { name: 'msg is fail_msg', args: { that: 'false', msg: 'nope' }, error: /^nope \(assertion: false\)$/ },
  ])('fails: $name', async ({ args, error }) => {
    const p = run(assert, args, { vars });
    await expect(p).rejects.toThrow(error);
    await expect(p).rejects.toBeInstanceOf(ModuleError);
  });

  test('the failure carries Ansible’s fields', async () => {
    const e = await run(assert, { that: 'hosts.length > 5' }, { vars }).catch((x) => x);
    expect(e.details).toMatchObject({ assertion: 'hosts.length > 5', evaluated_to: false });
  });

  test('check mode fails the same way', async () => {
    await expect(run(assert, { that: 'port == 1' }, { vars, check: true })).rejects.toThrow(/Assertion failed: port == 1/);
  });

  test('an undefined variable is an error naming it', async () => {
    await expect(run(assert, { that: 'missing_thing > 1' }, { vars })).rejects.toThrow(/undefined variable 'missing_thing'/);
  });

  test('success_msg', async () => {
    const r = await run(assert, { that: 'true', success_msg: 'fine' }, { vars });
    expect(r.result.msg).toBe('fine');
  });

  test('runs on the controller', () => {
    expect(assert.controllerOnly).toBe(true);
  });

  test.each([
    { name: 'missing that', args: { msg: 'x' }, problem: /missing required field 'that'/ },
    { name: 'that as a mapping', args: { that: { a: 1 } }, problem: /that/ },
    { name: 'unknown field', args: { that: 'true', why: 'x' }, problem: /unknown field 'why'/ },
  ])('schema rejects $name', ({ args, problem }) => {
    const text = schemaProblems(assert, args)
      .map((p) => `${p.path.join('.')}: ${p.message}`)
      .join('\n');
    expect(text).toMatch(problem);
  });
});
