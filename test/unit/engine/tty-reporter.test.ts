// The terminal reporter (listr2) under strategy free: hosts are at different tasks at once, so
// task and result events interleave; every host's line must still get its result and the
// reporter must finish (it used to wait forever for a host whose task list had been replaced).
import { describe, expect, test } from 'vitest';
import { TtyReporter } from '../../../engine/report/tty.js';
import type { RunEvent, TaskStatus } from '../../../engine/run/events.js';

const task = (name: string, hosts: string[]): RunEvent => ({ type: 'task', play: 'p', name, where: 'pb.yml:1', hosts });
const result = (host: string, name: string, status: TaskStatus = 'changed'): RunEvent => ({
  type: 'result',
  play: 'p',
  host,
  task: name,
  where: 'pb.yml:1',
  module: 'command',
  status,
  summary: `${name} on ${host}`,
  durationMs: 1,
});

describe('TtyReporter', () => {
  test('interleaved tasks of different hosts (strategy free) all resolve, and finish() returns', async () => {
    let out = '';
    const r = new TtyReporter({ diff: false, verbose: 0, colour: false, check: false, write: (s) => (out += s) });
    for (const e of [
      task('first', ['slow']),
      task('first', ['fast']),
      result('fast', 'first'),
      task('second', ['fast']),
      result('fast', 'second'),
      result('slow', 'first'),
      task('second', ['slow']),
      result('slow', 'second', 'failed'),
      { type: 'recap', hosts: {}, durationMs: 5 } as RunEvent,
    ]) {
      r.onEvent(e);
    }
    await r.finish();
    expect(out.match(/TASK \[(first|second)\]/g)).toEqual(['TASK [first]', 'TASK [first]', 'TASK [second]', 'TASK [second]']);
  }, 60_000);
});
