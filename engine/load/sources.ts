// The files a run read from the controller (playbook, roles, templates, vars files, inventory,
// group_vars/host_vars), named relative to the repository root: a plan pins their digests, and
// every path a user reads (output, --json, plan files, reports) is relative to that root.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { PLINTH_ROOT } from '../paths.js';
import { UserError } from '../user-error.js';

/** Names of plinth's own files (its roles and templates) when they are outside the repository. */
const PLINTH_PREFIX = '<plinth>/';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A source file that differs from the one a plan was made with. */
class SourceChangedError extends UserError {
  override name = 'SourceChangedError';
}

/** The git top level above the playbook, else the playbook's folder. */
export function repositoryRootOf(playbook: string): string {
  const start = path.dirname(path.resolve(playbook));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, '.git'))) return dir;
    if (path.dirname(dir) === dir) return start;
  }
}

function digestOfText(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 32);
}

class SourceLog {
  private root = process.cwd();
  private readonly files = new Map<string, string>();
  /** While applying a plan: the digests the plan was made with; a file read with another digest stops the run. */
  private expected?: Record<string, string>;

  /** Starts a run's record: paths are named relative to `root` from now on. */
  begin(root: string, expected?: Record<string, string>): void {
    this.root = root;
    this.files.clear();
    this.expected = expected;
  }

  get rootDir(): string {
    return this.root;
  }

  /** How a user sees a controller path: relative to the repository root, `<plinth>/…` for plinth's own files. */
  display(file: string): string {
    const abs = path.resolve(file);
    const inRoot = path.relative(this.root, abs);
    if (!inRoot.startsWith('..') && !path.isAbsolute(inRoot)) return inRoot.split(path.sep).join('/');
    const inPlinth = path.relative(PLINTH_ROOT, abs);
    if (!inPlinth.startsWith('..') && !path.isAbsolute(inPlinth)) return PLINTH_PREFIX + inPlinth.split(path.sep).join('/');
    return abs;
  }

  /** "file:line", or a message naming files, with the files as display() names them. */
  displayText(text: string): string {
    // Only a leading name that is a file is one: "connection to db2 (root@127.0.0.1:2201) lost" is not.
    const start = text.replace(/^([^\s:][^:\n]*)(?=:\d+)/, (file) => (existsSync(file) ? this.display(file) : file));
    const inPlinth = this.display(PLINTH_ROOT).startsWith(PLINTH_PREFIX) ? [PLINTH_ROOT] : [];
    // Only "file:line" references are controller files; any other path in a message (the host's
    // /tmp/.../app.conf a write failed on) is the host's, and stays as the host names it.
    return [this.root, ...inPlinth].reduce((t, dir) => t.replace(new RegExp(`${escapeRegExp(dir + path.sep)}(?=[^\\s:]+:\\d)`, 'g'), dir === this.root ? '' : PLINTH_PREFIX), start);
  }

  /** The controller path of a name given by display(), against this run's root. */
  resolve(name: string): string {
    if (name.startsWith(PLINTH_PREFIX)) return path.join(PLINTH_ROOT, name.slice(PLINTH_PREFIX.length));
    return path.resolve(this.root, name);
  }

  record(file: string, content: string | Buffer): void {
    const name = this.display(file);
    const digest = digestOfText(content);
    this.files.set(name, digest);
    if (!this.expected) return;
    if (!(name in this.expected)) throw new SourceChangedError(`${name} was not read when the plan was made: plan again`);
    if (this.expected[name] !== digest) throw new SourceChangedError(`${name} changed since the plan: plan again`);
  }

  /** name → digest of every file read so far, sorted by name. */
  digests(): Record<string, string> {
    return Object.fromEntries([...this.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}

/** The process-wide record, as the redactor is: loading and modules read files far from the CLI. */
export const sources = new SourceLog();
