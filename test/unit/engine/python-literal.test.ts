// INI inventory values are typed with Python's ast.literal_eval, as Ansible types them. Each
// case is checked against python3 itself (Debian's, which ansible-core needs anyway).
import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { pythonLiteral } from '../../../engine/load/python-literal.js';

const INPUTS = [
  '1',
  '-5',
  '+3',
  '0',
  '000',
  '010',
  '1_000',
  '0x1F',
  '0o17',
  '0b101',
  '1.5',
  '.5',
  '1.',
  '1e3',
  '-2.5e-2',
  '1_0.5',
  'True',
  'False',
  'None',
  'true',
  'yes',
  'null',
  '"a b"',
  "'single'",
  '"a" \'b\'',
  '"esc\\n\\t\\x41\\u00e9"',
  "r'raw\\n'",
  "u'uni'",
  '"""triple"""',
  '"open',
  '[1, 2, "x"]',
  '[1, [2, [3]]]',
  '[]',
  '[1,]',
  '(1, 2)',
  '(1)',
  '(1,)',
  '()',
  '1, 2',
  "{'a': 1, 'b': [True, None]}",
  '{1: "one"}',
  '{}',
  '{1, 2}',
  "{'a': {'b': {}}}",
  '"a b" # a comment',
  '42 # answer',
  'replica # not a comment here',
  'plain text',
  'a=b',
  '{a:1}',
  '1+2',
  '1 2',
  'abc',
  '12abc',
  "'it''s'",
  '-"x"',
  '[1, 2',
  '',
  ' 5',
  'f"x"',
  'inf',
  '--1',
];

function pythonValues(inputs: string[]): unknown[] {
  const script = `
import ast, json, sys
def conv(v):
    if isinstance(v, (tuple, list, set, frozenset)): return [conv(x) for x in v]
    if isinstance(v, dict): return {k: conv(x) for k, x in v.items()}
    return v
out = []
for text in json.load(sys.stdin):
    try: out.append(conv(ast.literal_eval(text)))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError): out.append(text)
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify(inputs), encoding: 'utf8' }));
}

describe('pythonLiteral is ast.literal_eval', () => {
  const expected = pythonValues(INPUTS);
  test.each(INPUTS.map((input, i) => [input, expected[i]] as const))('%j', (input, value) => {
    expect(pythonLiteral(input)).toEqual(value);
  });
});
