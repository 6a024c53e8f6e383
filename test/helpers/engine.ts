// Runs a playbook in this process with the engine itself (loader, runner, real local connection,
// real files) and the same reporters `plinth run --json` uses, without spawning the CLI: for
// tests of the engine. The command line keeps its own tests (cli.test.ts and the other CLI suites).
import * as path from 'node:path';
import { loadInventory, loadVarsFolders } from '../../engine/load/inventory.js';
import { loadPlaybook } from '../../engine/load/playbook.js';
import { repositoryRootOf, sources } from '../../engine/load/sources.js';
import { PLINTH_ROOT } from '../../engine/paths.js';
import { DEFAULT_FORKS, runPlaybook } from '../../engine/run/runner.js';
import { JsonReporter } from '../../engine/report/json.js';
import { PlainReporter } from '../../engine/report/plain.js';
import { parseExtraVars } from '../../engine/cli/extra-vars.js';
import { exitCodeOf } from '../../engine/cli/run-command.js';
import { moduleLoaders } from '../../modules/index.js';
import type { CliResult } from './cli.js';

export interface EngineRunOptions {
  /** Relative paths in the arguments are relative to this folder (default: the current one). */
  cwd?: string;
}

interface RunArgs {
  playbook: string;
  inventory: string[];
  extraVars: string[];
  check: boolean;
  diff: boolean;
  verbose: number;
  limit?: string;
  tags: string[];
  skipTags: string[];
  forks: number;
}

/**
 * The run `plinth run --json ARGS` would make, in this process: the events as the JSON lines
 * would carry them, the JSON lines as `stdout` and the plain report as `stderr`. Takes the run
 * arguments that shape what the engine does (-i, -e, -C, -D, -v, -l, -t, --skip-tags, -f); a
 * load error is thrown, not printed.
 */
export async function engineJson(argv: string[], o: EngineRunOptions = {}): Promise<CliResult & { events: Record<string, any>[] }> {
  const a = parseRunArgs(argv, o.cwd ?? process.cwd());
  sources.begin(repositoryRootOf(a.playbook));
  const extraVars = await parseExtraVars(a.extraVars);
  const inventory = await loadInventory(a.inventory.length ? a.inventory : undefined);
  const plays = await loadPlaybook(a.playbook, { modules: moduleLoaders, rolesPath: [path.join(PLINTH_ROOT, 'roles')] });
  await loadVarsFolders(inventory, path.dirname(a.playbook));
  let stdout = '';
  let stderr = '';
  const json = new JsonReporter((line) => (stdout += line));
  const plain = new PlainReporter({ diff: a.diff, verbose: a.verbose, colour: false, check: a.check, write: (s) => (stderr += s) });
  const summary = await runPlaybook({
    inventory,
    plays,
    check: a.check,
    limit: a.limit,
    tags: a.tags,
    skipTags: a.skipTags,
    extraVars,
    forks: a.forks,
    onEvent: (e) => {
      json.onEvent(e);
      plain.onEvent(e);
    },
  });
  await plain.finish();
  const events = stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, any>);
  return { code: exitCodeOf(summary), stdout, stderr, events };
}

function parseRunArgs(argv: string[], cwd: string): RunArgs {
  const a: Omit<RunArgs, 'playbook'> & { playbook?: string } = { inventory: [], extraVars: [], check: false, diff: false, verbose: 0, tags: [], skipTags: [], forks: DEFAULT_FORKS };
  const list = (v: string) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const inventorySource = (v: string) => (v.includes(',') ? v : path.resolve(cwd, v));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`engineJson: ${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '-i' || arg === '--inventory') a.inventory.push(inventorySource(value()));
    else if (arg === '-e' || arg === '--extra-vars') {
      const v = value();
      a.extraVars.push(v.startsWith('@') ? `@${path.resolve(cwd, v.slice(1))}` : v);
    } else if (arg === '-C' || arg === '--check') a.check = true;
    else if (arg === '-D' || arg === '--diff') a.diff = true;
    else if (/^-v+$/.test(arg)) a.verbose += arg.length - 1;
    else if (arg === '-l' || arg === '--limit') a.limit = value();
    else if (arg === '-t' || arg === '--tags') a.tags.push(...list(value()));
    else if (arg === '--skip-tags') a.skipTags.push(...list(value()));
    else if (arg === '-f' || arg === '--forks') a.forks = Number(value());
    else if (arg.startsWith('-')) throw new Error(`engineJson: ${arg} is the command line's business: test it with the CLI helper`);
    else if (a.playbook === undefined) a.playbook = path.resolve(cwd, arg);
    else throw new Error(`engineJson: a second playbook '${arg}'`);
  }
  if (a.playbook === undefined) throw new Error('engineJson: no playbook');
  return a as RunArgs;
}
