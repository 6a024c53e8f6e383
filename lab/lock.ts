// One `plinth lab` command at a time: up, down and the lab test suites take this lock.
// A directory is created atomically; it holds the owner's pid so a crashed owner's lock is
// taken over instead of blocking forever.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LabError } from './lab-error.js';
import { isAlive, sleep } from './procs.js';

export type Release = () => Promise<void>;

export async function acquireLock(dir: string, opts: { waitMs?: number; what?: string } = {}): Promise<Release> {
  const deadline = Date.now() + (opts.waitMs ?? 0);
  await fs.mkdir(path.dirname(dir), { recursive: true });
  for (;;) {
    try {
      await fs.mkdir(dir);
      await fs.writeFile(`${dir}/pid`, `${process.pid}\n`);
      return async () => {
        await fs.rm(dir, { recursive: true, force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number((await fs.readFile(`${dir}/pid`, 'utf8').catch(() => '')).trim());
    if (!owner || !isAlive(owner)) {
      // A missing pid file may mean the owner is between mkdir and writeFile: look again first.
      await sleep(200);
      const again = Number((await fs.readFile(`${dir}/pid`, 'utf8').catch(() => '')).trim());
      if (!again || !isAlive(again)) await fs.rm(dir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new LabError(`another ${opts.what ?? '`plinth lab` command'} is running (pid ${owner}); wait for it to finish`);
    }
    await sleep(500);
  }
}
