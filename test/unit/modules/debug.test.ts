import { describe, expect, test } from 'vitest';
import { debug } from '../../../modules/debug.js';
import { run, schemaProblems } from '../../helpers/modules.js';

const vars = { result: { stdout_lines: ['a', 'b'] }, port: 5432 };

describe('debug', () => {
  test.each([
    { name: 'msg as text', args: { msg: 'hello' }, result: { msg: 'hello' } },
    { name: 'msg as a list', args: { msg: ['a', 1] }, result: { msg: ['a', 1] } },
    { name: 'var is evaluated, under its own name (as Ansible)', args: { var: 'result.stdout_lines' }, result: { 'result.stdout_lines': ['a', 'b'] } },
    { name: 'var expression', args: { var: 'port + 1' }, result: { 'port + 1': 5433 } },
    { name: 'an undefined var is printed as such, as Ansible does', args: { var: 'nope.x' }, result: { 'nope.x': 'VARIABLE IS NOT DEFINED!' } },
    { name: 'nothing: Ansible’s default', args: {}, result: { msg: 'Hello world!' } },
  ])('$name', async ({ args, result }) => {
    for (const check of [true, false]) {
      const r = await run(debug, args, { vars, check });
      expect(r.status).toBe('ok');
      expect(r.result).toEqual(result);
    }
  });

  test('a var that is not a valid expression is an error', async () => {
    await expect(run(debug, { var: 'port +' }, { vars })).rejects.toThrow(/port \+/);
  });

  test('msg and var together are refused', async () => {
    await expect(run(debug, { msg: 'a', var: 'port' }, { vars })).rejects.toThrow(': write either msg or var, not both');
  });

  test('runs on the controller', () => {
    expect(debug.controllerOnly).toBe(true);
  });

  test.each([
    { name: 'var not a string', args: { var: 3 }, problem: /var: must be string/ },
    { name: 'unknown field', args: { message: 'x' }, problem: /unknown field 'message'/ },
    { name: 'verbosity negative', args: { verbosity: -1 }, problem: /verbosity/ },
  ])('schema rejects $name', ({ args, problem }) => {
    const text = schemaProblems(debug, args)
      .map((p) => `${p.path.join('.')}: ${p.message}`)
      .join('\n');
    expect(text).toMatch(problem);
  });
});
