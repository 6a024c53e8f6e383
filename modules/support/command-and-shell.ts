// What command and shell share: skipping on creates/removes, running with a timeout,
// and Ansible's result shape (rc, stdout, stderr and their _lines).
import * as path from 'node:path';
import type { ApplyResult, ArgsOf, ExecResult, ModuleContext, Plan } from '../../engine/types.js';
import { ModuleError } from '../../engine/types.js';

/** The options command and shell share, as their schemas declare them (commandOptionProperties). */
type CommandOptions = ArgsOf<{ type: 'object'; properties: typeof commandOptionProperties }>;

export const commandOptionProperties = {
  chdir: { type: 'string', minLength: 1, description: 'directory to run the command in' },
  creates: { type: 'string', minLength: 1, description: 'path or glob: when it exists, the command is not run' },
  removes: { type: 'string', minLength: 1, description: 'path or glob: when it does not exist, the command is not run' },
  stdin: { type: 'string', description: 'text written to the command’s standard input' },
  stdin_add_newline: { type: 'boolean', default: true, description: 'append a newline to stdin' },
  strip_empty_ends: { type: 'boolean', default: true, description: 'strip trailing newlines from stdout and stderr in the result' },
  timeout: { type: 'number', exclusiveMinimum: 0, description: 'seconds before the command is killed and the task fails' },
} as const;

export interface CommandObserved {
  /** Set when creates/removes says the command must not run. */
  skipReason?: { msg: string; stdout: string };
}

export interface CommandAction {
  argv: string[];
}

/** Relative creates/removes are relative to chdir, as in Ansible. Globs are expanded by sh on the host. */
async function pathExists(ctx: ModuleContext, pattern: string, chdir?: string): Promise<boolean> {
  const full = chdir && !path.isAbsolute(pattern) ? path.join(chdir, pattern) : pattern;
  if (!/[*?[]/.test(full)) return !!(await ctx.host.stat(full, { ...ctx.become }));
  // IFS= keeps names with spaces whole; the unquoted $1 is only glob-expanded.
  const script = 'IFS=; set -- $1; [ -e "$1" ] || [ -L "$1" ]';
  const r = await ctx.host.exec(['sh', '-c', script, 'sh', full], { ...ctx.become });
  return r.exitCode === 0;
}

export async function observeCommand(ctx: ModuleContext, o: Pick<CommandOptions, 'creates' | 'removes' | 'chdir'>): Promise<CommandObserved> {
  if (o.creates && (await pathExists(ctx, o.creates, o.chdir))) {
    return { skipReason: { msg: `Did not run command since '${o.creates}' exists`, stdout: `skipped, since ${o.creates} exists` } };
  }
  if (o.removes && !(await pathExists(ctx, o.removes, o.chdir))) {
    return { skipReason: { msg: `Did not run command since '${o.removes}' does not exist`, stdout: `skipped, since ${o.removes} does not exist` } };
  }
  return {};
}

export function planCommand(observed: CommandObserved, argv: string[], cmd: unknown): Plan<CommandAction> {
  if (observed.skipReason) {
    const { msg, stdout } = observed.skipReason;
    return { changed: false, summary: msg, result: { cmd, msg, rc: 0, stdout, stderr: '', stdout_lines: [stdout], stderr_lines: [] } };
  }
  const shown = typeof cmd === 'string' ? cmd : argv.join(' ');
  return { changed: true, summary: `run ${shown.length > 80 ? shown.slice(0, 77) + '...' : shown}`, action: { argv }, result: { cmd } };
}

function tidy(text: string, strip: boolean): string {
  return strip ? text.replace(/[\r\n]+$/, '') : text;
}

function lines(text: string): string[] {
  return text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
}

export async function runCommand(ctx: ModuleContext, argv: string[], o: CommandOptions): Promise<ApplyResult> {
  if (o.chdir) {
    const dir = await ctx.host.stat(o.chdir, { ...ctx.become, follow: true });
    if (dir?.type !== 'directory') throw new ModuleError(`Unable to change directory before execution: ${o.chdir} is not a directory`);
  }
  const stdin = o.stdin === undefined ? undefined : o.stdin_add_newline ? `${o.stdin}\n` : o.stdin;
  let r: ExecResult;
  try {
    r = await ctx.host.exec(argv, { ...ctx.become, cwd: o.chdir, stdin, timeout: o.timeout ? o.timeout * 1000 : undefined });
  } catch (e) {
    if ((e as Error).name === 'TimeoutError') {
      return {
        failed: true,
        message: `The command timed out after ${o.timeout} s`,
        result: { rc: -1, stdout: '', stderr: '', stdout_lines: [], stderr_lines: [], msg: `The command timed out after ${o.timeout} s` },
      };
    }
    throw e;
  }
  const stdout = tidy(r.stdout, o.strip_empty_ends);
  const stderr = tidy(r.stderr, o.strip_empty_ends);
  const result = { rc: r.exitCode, stdout, stderr, stdout_lines: lines(stdout), stderr_lines: lines(stderr) };
  if (r.exitCode === 0) return { result };
  const tail = lines(stderr).slice(-5).join('\n');
  const message = `non-zero return code ${r.exitCode}${tail ? `: ${tail}` : ''}`;
  return { failed: true, message, result: { ...result, msg: 'non-zero return code' } };
}
