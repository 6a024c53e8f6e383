// Finding the lab's processes in /proc. `down` works from what it finds here, not from a
// list of ids saved at `up`, so it also cleans up after a crash; every process it signals is
// matched by its command line or its root directory, and signalled by its id.
import { promises as fs } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  argv: string[];
  /** Inode of the process's network namespace (from /proc/<pid>/ns/net). */
  netns: number;
  /** True for the PID 1 of a PID namespace other than ours, e.g. a container's init. */
  namespaceInit: boolean;
}

async function readProcess(pid: number): Promise<ProcessInfo | null> {
  try {
    const [cmdline, stat, status, net] = await Promise.all([
      fs.readFile(`/proc/${pid}/cmdline`, 'utf8'),
      fs.readFile(`/proc/${pid}/stat`, 'utf8'),
      fs.readFile(`/proc/${pid}/status`, 'utf8'),
      fs.readlink(`/proc/${pid}/ns/net`).catch(() => ''),
    ]);
    // stat is "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    // NSpid lists the pid in each nested PID namespace, outermost first.
    const nspid = (/^NSpid:\s*(.*)$/m.exec(status)?.[1] ?? '').trim().split(/\s+/);
    return {
      pid,
      ppid,
      argv: cmdline.split('\0').filter((a) => a !== ''),
      netns: Number(/\[(\d+)\]/.exec(net)?.[1] ?? 0),
      namespaceInit: nspid.length > 1 && nspid[nspid.length - 1] === '1',
    };
  } catch {
    return null; // it ended while we looked
  }
}

export async function listProcesses(): Promise<ProcessInfo[]> {
  const entries = await fs.readdir('/proc');
  const pids = entries.filter((e) => /^\d+$/.test(e)).map(Number);
  const found = await Promise.all(pids.map(readProcess));
  return found.filter((p): p is ProcessInfo => p !== null);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until none of the pids is alive; returns the ones still alive at the deadline. */
export async function waitForExit(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(100);
    alive = alive.filter(isAlive);
  }
  return alive;
}
