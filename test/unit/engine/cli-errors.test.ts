// How the CLI reports failures: what a user must fix is one line naming the file, line and
// field, without a stack; anything else is a bug in plinth and shows its stack. And a reader
// that closes the pipe early (`plinth modules | head -1`) leaves plinth quiet (a run keeps going:
// cli.test.ts).
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { plinth, repoRoot, tempTrees } from '../../helpers/cli.js';

const tree = tempTrees();

const playbook = `- hosts: localhost
  gather_facts: false
  tasks:
    - name: greet
      debug:
        msg: hello
`;

describe('errors a user must fix', () => {
  it('a wrong field: one line with file:line:col and the field, no stack, exit 4', async () => {
    const dir = await tree({ 'pb.yml': playbook.replace('msg: hello', 'msg: hello\n        colour: red') });
    const r = await plinth(['run', 'pb.yml'], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toBe("ERROR! pb.yml:7:9: debug: colour: unknown field 'colour'\n");
  });

  it('a saved plan that is not there: the message only, exit 1', async () => {
    const dir = await tree({ 'pb.yml': playbook });
    const r = await plinth(['apply', 'nowhere.plan.json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("ERROR! cannot read the plan nowhere.plan.json: ENOENT: no such file or directory, open 'nowhere.plan.json'\n");
  });
});

describe('a bug in plinth', () => {
  it('prints "internal error (a bug in plinth)" with the stack, exit 1', async () => {
    // A real TypeError thrown where plinth's own code runs: the plain reporter's first write.
    const dir = await tree({
      'pb.yml': playbook,
      'bug.mjs': `const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  if (String(chunk).includes('PLAY')) throw new TypeError('simulated bug in a reporter');
  return write(chunk, ...rest);
};
`,
    });
    const r = await plinth(['run', 'pb.yml'], { cwd: dir, env: { NODE_OPTIONS: `--import=${path.join(dir, 'bug.mjs')}` } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ERROR! internal error \(a bug in plinth\), please report it with this trace:\nTypeError: simulated bug in a reporter\n/);
    expect(r.stderr).toMatch(/\n\s+at PlainReporter\.onEvent /);
  });
});

describe('a reader that closes the pipe early', () => {
  it('plinth ends quietly, as it would have', async () => {
    // The read end is closed before plinth writes its first byte: every write gets EPIPE.
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'plinth.js'), 'modules'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
