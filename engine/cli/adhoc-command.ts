// `plinth adhoc PATTERN -m MODULE -a 'k=v ...'`: one module on the matching hosts, as Ansible's
// `ansible PATTERN -m MODULE -a ARGS`, with the same inventory, check, diff and become as a
// playbook run. The task is a one-task play, loaded and validated the way a playbook's is.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { SourceError } from '../load/yaml.js';
import { AdhocReporter } from '../report/adhoc.js';
import { addRunOptions, executePlaybook, exitCodeOf, type RunFlags } from './run-command.js';
import { ExitCode, UsageError } from './exit-codes.js';

interface AdhocFlags extends RunFlags {
  moduleName: string;
  args?: string;
  become?: boolean;
  becomeUser?: string;
}

export function registerAdhocCommand(program: Command): void {
  addRunOptions(
    program
      .command('adhoc')
      .description('run one module on the hosts of a pattern (like `ansible PATTERN -m MODULE -a ARGS`)')
      .argument('<pattern>', 'hosts: names, groups, globs, a:b, a:&b, a:!b (as --limit)')
      .option('-m, --module-name <module>', 'the module (default command)', 'command')
      .option('-a, --args <args>', 'its arguments: \'k=v k2="v 2"\', or the command line for command/shell')
      .option('-b, --become', 'run as root (sudo)')
      .option('--become-user <user>', 'run as this user (with --become)'),
  )
    .addHelpText(
      'after',
      "\nExamples:\n  plinth adhoc all -i hosts.yml -m ping\n  plinth adhoc pg -i hosts.yml -a 'pg_lsclusters'\n  plinth adhoc pgpool -i hosts.yml -b -m service -a 'name=pgpool2 state=restarted' --check --diff",
    )
    .action(async (pattern: string, flags: AdhocFlags) => {
      process.exitCode = await adhocCommand(pattern, flags);
    });
}

async function adhocCommand(pattern: string, flags: AdhocFlags): Promise<number> {
  const task: Record<string, unknown> = { name: `${flags.moduleName}${flags.args ? ` ${flags.args}` : ''}`, [flags.moduleName]: flags.args ?? null };
  const play: Record<string, unknown> = { hosts: pattern, gather_facts: false, tasks: [task] };
  if (flags.become) play.become = true;
  if (flags.becomeUser) play.become_user = flags.becomeUser;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-adhoc-'));
  const file = path.join(dir, 'adhoc.yml');
  await fs.writeFile(file, stringify([play]));
  try {
    const summary = await executePlaybook(file, flags, { reporter: (o) => new AdhocReporter(o), root: process.cwd() });
    if (summary && Object.keys(summary.hosts).length === 0) {
      process.stderr.write(`[WARNING]: no hosts matched '${pattern}'\n`);
    }
    return summary ? exitCodeOf(summary) : ExitCode.Ok;
  } catch (e) {
    // The play is ours, not the user's: name the option, not a temporary file's line.
    if (e instanceof SourceError) throw new UsageError(`-m ${flags.moduleName}${flags.args ? ` -a '${flags.args}'` : ''}: ${e.message.replace(/^.*adhoc\.yml:\d+:\d+: /, '')}`);
    throw e;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
