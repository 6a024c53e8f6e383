import { describe, expect, test } from 'vitest';
import { set_fact } from '../../../modules/set_fact.js';
import { run, schemaProblems } from '../../helpers/modules.js';

describe('set_fact', () => {
  test.each([
    { name: 'plain values', args: { a: 1, b: 'two', c: [1, 2], d: { e: true } }, facts: { a: 1, b: 'two', c: [1, 2], d: { e: true } } },
    { name: 'cacheable is not a fact', args: { x: 'y', cacheable: true }, facts: { x: 'y' } },
  ])('$name', async ({ args, facts }) => {
    for (const check of [true, false]) {
      const r = await run(set_fact, args, { check });
      expect(r.status).toBe('ok');
      expect(r.result).toEqual({ ansible_facts: facts });
    }
  });

  test('runs on the controller', () => {
    expect(set_fact.controllerOnly).toBe(true);
  });

  test.each([
    { name: 'no facts', args: {}, problem: /fewer than 1|must NOT have fewer/ },
    { name: 'a name that is not a variable name', args: { 'bad-name': 1 }, problem: /bad-name|property name/ },
    { name: 'cacheable not a boolean', args: { a: 1, cacheable: 'yes' }, problem: /cacheable: must be boolean/ },
  ])('schema rejects $name', ({ args, problem }) => {
    const problems = schemaProblems(set_fact, args);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('\n')).toMatch(problem);
  });
});
