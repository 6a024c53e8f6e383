// `plinth run`: load, validate and run a playbook; print as asked; exit as ansible-playbook does.
import { withDisplayPaths } from '../report/display-paths.js';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PLINTH_ROOT } from '../paths.js';
import type { Command } from 'commander';
import { loadInventory, type Inventory } from '../load/inventory.js';
import { Connections } from '../run/connections.js';
import { loadPlaybook, tasksOf, type Node, type Play } from '../load/playbook.js';
import { syntaxCheck } from '../load/syntax-check.js';
import { SourceErrors } from '../load/yaml.js';
import { createInterface } from 'node:readline';
import { loadVarsFolders } from '../load/inventory.js';
import { runPlaybook, taskMatches, DEFAULT_FORKS, type RunSummary } from '../run/runner.js';
import type { TaskObserver } from '../run/task.js';
import type { RunEvent } from '../run/events.js';
import { selectHosts, splitPattern } from '../run/patterns.js';
import { tagsSelected } from '../run/tags.js';
import { moduleLoaders } from '../../modules/index.js';
import { PlainReporter } from '../report/plain.js';
import { JsonReporter } from '../report/json.js';
import type { Reporter, ReporterOptions } from '../report/reporter.js';
import { parseExtraVars } from './extra-vars.js';
import { ExitCode, UsageError } from './exit-codes.js';
import { loadProjectConfig, type ProjectConfig } from './project-config.js';
import { askHidden, useVaultPassword } from './vault-command.js';
import { setPassphrasePrompt } from '../connection/passphrase-prompt.js';
import { redactor } from '../secrets/redact.js';
import { repositoryRootOf, sources } from '../load/sources.js';
import { UserError } from '../user-error.js';

export interface RunFlags {
  /** Every -i, in order: merged as Ansible merges them. */
  inventory?: string[];
  check?: boolean;
  diff?: boolean;
  limit?: string;
  tags?: string;
  skipTags?: string;
  extraVars: string[];
  forks?: string;
  listHosts?: boolean;
  listTasks?: boolean;
  syntaxCheck?: boolean;
  startAtTask?: string;
  step?: boolean;
  verbose: number;
  json?: boolean;
  vaultPasswordFile?: string;
}

/** -i, repeatable: each source is merged into the inventory in the order given. */
export function addInventoryOption(cmd: Command): Command {
  return cmd.option(
    '-i, --inventory <source>',
    'inventory (repeatable, merged in order): a YAML or INI file as Ansible writes them, an executable script (--list JSON), a folder of those, or a host list ("web1,web[01:03],"); default: the inventory of plinth.cfg, else localhost only',
    collect,
  );
}

export function addRunOptions(cmd: Command): Command {
  return addInventoryOption(cmd)
    .option('-C, --check', 'check mode: observe and plan, change nothing; later tasks see the files earlier tasks would write')
    .option('-D, --diff', 'show a unified diff of every change (secrets are never shown)')
    .option('-l, --limit <pattern>', 'only these hosts: names, groups, globs (pg-*), ~regex, a:b union, a:&b intersection, a:!b exclusion, group[0], group[1:3], @file (one host a line)')
    .option('-t, --tags <tags>', 'only tasks with one of these tags (comma-separated; also "tagged", "untagged", "all")')
    .option('--skip-tags <tags>', 'skip tasks with one of these tags (comma-separated)')
    .option('-e, --extra-vars <vars>', 'variables with the highest precedence: k=v pairs, JSON or YAML, or @file.yml (repeatable)', collect, [])
    .option('-f, --forks <n>', `hosts worked on at once (default: forks in plinth.cfg, else ${DEFAULT_FORKS})`)
    .option('--list-hosts', 'print the hosts each play would run on, then exit')
    .option('--list-tasks', 'print the tasks each play would run (after tag selection), then exit')
    .option('--syntax-check', 'load the playbook and its roles, compile every expression and template, report every problem; connect to nothing')
    .option('--start-at-task <name>', 'skip the tasks before the first one of this name (or glob, or "role : name")')
    .option('--step', 'ask before each task: (y)es, (n)o, (c)ontinue without asking')
    .option('-v, --verbose', 'more output: task paths, module results, connection logs (repeatable)', increase, 0)
    .option('--vault-password-file <file>', 'file whose first line is the vault password (else PLINTH_VAULT_PASSWORD, else a prompt when a vault file is read)')
    .option('--json', 'one JSON object per line on stdout for every task result, then a recap object; human output goes to stderr');
}

export async function runCommand(playbook: string, flags: RunFlags): Promise<number> {
  const summary = await executePlaybook(playbook, flags, {});
  return summary ? exitCodeOf(summary) : ExitCode.Ok;
}

export interface ExecuteExtras {
  /** Sees every observation (plan: records; apply: compares). */
  observer?: TaskObserver;
  /** Receives every event besides the reporters (the plan recorder). */
  onEvent?: (e: RunEvent) => void;
  /** Forces check mode (plan). */
  check?: boolean;
  /** Hash of the extra vars, for plan files. */
  onExtraVars?: (extraVars: Record<string, unknown>) => void;
  /** No output at all (apply's survey of the hosts before it changes anything). */
  quiet?: boolean;
  /** The repository root paths are named against (default: the git top level above the playbook, else its folder). */
  root?: string;
  /** Applying a plan: the digests of the sources it was made with; any other file or content stops the run. */
  expectedSources?: Record<string, string>;
  /** The human output instead of the playbook reporter (adhoc's compact lines). */
  reporter?: (options: ReporterOptions) => Reporter;
}

/** Loads and runs a playbook with reporters as the flags ask; undefined for --list-hosts/--list-tasks. */
export async function executePlaybook(playbook: string, given: RunFlags, extras: ExecuteExtras): Promise<RunSummary | undefined> {
  const config = await loadProjectConfig();
  const flags = withProjectDefaults(given, config);
  const forks = Number(flags.forks ?? config?.forks ?? DEFAULT_FORKS);
  if (!Number.isInteger(forks) || forks < 1) throw new UsageError(`--forks must be a positive integer, got '${flags.forks}'`);
  if (config?.ignored.length && flags.verbose > 0) process.stderr.write(`${config.file}: not used by plinth: ${config.ignored.join(', ')}\n`);
  useVaultPassword(flags.vaultPasswordFile);
  if (process.stdin.isTTY) setPassphrasePrompt(askHidden);
  const extraVars = await parseExtraVars(flags.extraVars);
  extras.onExtraVars?.(extraVars);
  // Extra-vars files are not sources of the plan: they may hold secrets, and their values are digested apart.
  sources.begin(extras.root ?? repositoryRootOf(playbook), extras.expectedSources);
  const inventory = await loadInventory(flags.inventory);
  await loadVarsFolders(inventory, path.dirname(path.resolve(playbook)));
  // The hosts are connected while the roles load (not for a listing or a syntax check).
  const connections =
    flags.syntaxCheck || flags.listHosts || flags.listTasks
      ? undefined
      : new Connections(inventory, { hostDefaults: config?.hostDefaults, limited: await limitedHosts(inventory, flags.limit), forks });
  try {
    return await loadAndRun(playbook, flags, extras, { config, forks, extraVars, inventory, connections });
  } finally {
    await connections?.closeUnused();
  }
}

/** The hosts within --limit, or null for all; also null when the limit is wrong (loadAndRun reports it, after the playbook's own problems). */
async function limitedHosts(inventory: Inventory, limit: string | undefined): Promise<Set<string> | null> {
  if (limit === undefined) return null;
  try {
    return new Set(selectHosts(inventory, await readLimitFiles(limit)));
  } catch {
    return new Set();
  }
}

async function loadAndRun(
  playbook: string,
  flags: RunFlags,
  extras: ExecuteExtras,
  { config, forks, extraVars, inventory, connections }: { config: ProjectConfig | undefined; forks: number; extraVars: Record<string, unknown>; inventory: Inventory; connections?: Connections },
): Promise<RunSummary | undefined> {
  const plays = await loadPlaybook(playbook, {
    modules: moduleLoaders,
    /* plinth's own roles serve every playbook; its other files serve none */
    rolesPath: [...(config?.rolesPath ?? []), path.join(PLINTH_ROOT, 'roles')],
    onPlayHosts: (pattern) => connections?.prefetch(pattern),
  });
  const limit = flags.limit === undefined ? undefined : await readLimitFiles(flags.limit);
  if (limit !== undefined && selectHosts(inventory, limit).length === 0) {
    throw new NoHostsError(`--limit '${flags.limit}' matches no host of the inventory ${inventory.source}`);
  }
  const tags = splitList(flags.tags);
  const skipTags = splitList(flags.skipTags);
  const check = !!(flags.check || extras.check);
  const out = (s: string) => process.stdout.write(s);
  if (flags.syntaxCheck) {
    const problems = await syntaxCheck(plays);
    if (problems.length === 1) throw problems[0];
    if (problems.length > 1) throw new SourceErrors(problems, false);
    out(`playbook: ${playbook}\n`);
    return undefined;
  }
  if (flags.listHosts || flags.listTasks) {
    out(listPlays(plays, inventory, { ...flags, limit }, tags, skipTags));
    return undefined;
  }
  if (flags.startAtTask !== undefined && !plays.some((p) => [...tasksOf(p.tasks)].some((t) => taskMatches(t, flags.startAtTask!)))) {
    throw new UsageError(`--start-at-task: no task of the playbook is named '${flags.startAtTask}'`);
  }
  const human = flags.json ? (s: string) => process.stderr.write(s) : out;
  // listr2 redraws lines in place: only on a real terminal of usable width.
  const interactive = !flags.json && process.stdout.isTTY && !process.env.CI && (process.stdout.columns ?? 0) >= 40;
  const options = { diff: !!flags.diff, verbose: flags.verbose, colour: !!(flags.json ? process.stderr.isTTY : process.stdout.isTTY) && !process.env.NO_COLOR, check, write: human };
  // listr2 is loaded only for a terminal.
  const reporters: Reporter[] = [extras.reporter ? extras.reporter(options) : interactive ? new (await import('../report/tty.js')).TtyReporter(options) : new PlainReporter(options)];
  if (flags.json) reporters.push(new JsonReporter((line) => process.stdout.write(line)));
  if (extras.quiet) reporters.length = 0;

  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) return;
    process.stderr.write('\nInterrupted: finishing the tasks in flight, starting no new one...\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const step = flags.step ? stepPrompt() : undefined;
  try {
    return await runPlaybook({
      inventory,
      plays,
      check,
      limit,
      tags,
      skipTags,
      extraVars,
      forks,
      hostDefaults: config?.hostDefaults,
      connections,
      signal: abort.signal,
      observer: extras.observer,
      startAtTask: flags.startAtTask,
      confirmTask: step?.ask,
      onEvent: (raw) => {
        const e = withDisplayPaths(raw);
        reporters.forEach((r) => r.onEvent(e));
        extras.onEvent?.(e);
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    step?.close();
    await Promise.all(reporters.map((r) => r.finish()));
  }
}

/**
 * `--limit @FILE` (a retry file: one host or pattern a line) as Ansible reads it; `@FILE` may
 * stand beside other terms (`@failed.retry,!db1`).
 */
async function readLimitFiles(limit: string): Promise<string> {
  const terms = splitPattern(limit);
  if (!terms.some((t) => t.startsWith('@'))) return limit;
  const out: string[] = [];
  for (const term of terms) {
    if (!term.startsWith('@')) {
      out.push(term);
      continue;
    }
    const file = term.slice(1);
    const text = await fs.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`--limit ${term}: ${e.code === 'EISDIR' ? 'must be a file, not a folder' : `cannot read ${file}: ${e.code ?? e.message}`}`);
    });
    out.push(
      ...text
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
    );
  }
  if (out.length === 0) throw new UsageError(`--limit ${limit}: the file names no host`);
  return out.join(',');
}

/** Options given on the command line win; plinth.cfg fills in the others. */
export function withProjectDefaults<T extends { inventory?: string[]; vaultPasswordFile?: string }>(flags: T, config: ProjectConfig | undefined): T {
  return { ...flags, inventory: flags.inventory ?? config?.inventory, vaultPasswordFile: flags.vaultPasswordFile ?? config?.vaultPasswordFile };
}

/** Nothing to do because nothing matched: an error (exit 1), as in ansible-playbook. */
class NoHostsError extends UserError {
  override name = 'NoHostsError';
}

export function exitCodeOf(summary: RunSummary): number {
  if (summary.interrupted) return ExitCode.Interrupted;
  const counts = Object.values(summary.hosts);
  if (counts.some((c) => c.failed > 0)) return ExitCode.HostFailed;
  if (counts.some((c) => c.unreachable > 0)) return ExitCode.HostUnreachable;
  return ExitCode.Ok;
}

function listPlays(plays: Play[], inventory: Awaited<ReturnType<typeof loadInventory>>, flags: RunFlags, tags: string[], skipTags: string[]): string {
  const lines: string[] = [];
  const limited = flags.limit ? new Set(selectHosts(inventory, flags.limit)) : null;
  for (const play of plays) {
    const hosts = selectHosts(inventory, play.hosts).filter((h) => !limited || limited.has(h));
    lines.push(`play: ${play.name} (${hosts.length} host${hosts.length === 1 ? '' : 's'})`);
    if (flags.listHosts) for (const h of hosts) lines.push(`    ${h}`);
    if (flags.listTasks) {
      const visit = (nodes: Node[], indent: string) => {
        for (const n of nodes) {
          if (n.kind === 'block') {
            visit(n.block, indent);
            visit(n.rescue, indent);
            visit(n.always, indent);
          } else if (tagsSelected(n.tags, tags, skipTags)) {
            lines.push(`${indent}${n.name}\t${sources.display(n.where.file)}:${n.where.line}${n.tags.length ? `\tTAGS: [${[...new Set(n.tags)].join(', ')}]` : ''}`);
          }
        }
      };
      visit(play.tasks, '    ');
    }
  }
  return redactor.redact(lines.join('\n') + '\n');
}

/** --step: "Perform task: NAME (N)o/(y)es/(c)ontinue:" on stderr, the answer read from stdin (no by default). */
function stepPrompt(): { ask: (name: string) => Promise<'yes' | 'no' | 'continue'>; close: () => void } {
  const lines: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  let ended = false;
  const reader = createInterface({ input: process.stdin });
  reader.on('line', (line) => (waiting.length ? waiting.shift()!(line) : lines.push(line)));
  reader.on('close', () => {
    ended = true;
    for (const w of waiting.splice(0)) w(undefined);
  });
  const next = () => new Promise<string | undefined>((resolve) => (lines.length ? resolve(lines.shift()) : ended ? resolve(undefined) : waiting.push(resolve)));
  const ask = async (name: string): Promise<'yes' | 'no' | 'continue'> => {
    process.stderr.write(`Perform task: ${name} (N)o/(y)es/(c)ontinue: `);
    const answer = ((await next()) ?? '').trim().toLowerCase();
    process.stderr.write('\n');
    if (answer === 'c' || answer === 'continue') {
      reader.close();
      return 'continue';
    }
    return answer === 'y' || answer === 'yes' ? 'yes' : 'no';
  };
  return { ask, close: () => reader.close() };
}

function splitList(v?: string): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function increase(_v: string, previous: number): number {
  return previous + 1;
}
