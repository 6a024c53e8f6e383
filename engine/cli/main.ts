// The plinth command line. The only place that prints errors and calls process.exit.
import { sources } from '../load/sources.js';
import { Command, CommanderError } from 'commander';
import { addRunOptions, runCommand, type RunFlags } from './run-command.js';
import { registerInventoryCommand } from './inventory-command.js';
import { describeModules, writeSchemas } from './modules-command.js';
import { ExitCode, UsageError } from './exit-codes.js';
import { SourceError, SourceErrors } from '../load/yaml.js';
import { UserError } from '../user-error.js';
import { PatternError } from '../run/patterns.js';
import { redactor } from '../secrets/redact.js';
import { registerLabCommands } from '../../lab/lab-command.js';
import { registerVaultCommands } from './vault-command.js';
import { registerPlanCommands } from './plan-command.js';
import { registerAdhocCommand } from './adhoc-command.js';

// A reader that stops early (`plinth lab status | head -1`) closes the pipe: the rest of the output
// goes unread, quietly. Unlike git, plinth does not stop there: a run or `lab up` cut short would
// leave hosts half changed, so the command finishes and exits as it would have.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  });
}

const program = new Command();
program
  .name('plinth')
  .description(
    'plinth: a declarative playbook engine. Ansible-shaped playbooks, inventories and roles; modules that observe, plan\n' +
      'and then apply, so that --check shows exactly what a run would change, with diffs, and a second run changes nothing.',
  )
  .version('0.1.0')
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    `
Examples:
  plinth lab up                                     start the built-in lab (4 Debian hosts, see the README)
  plinth run -i /var/lib/plinth-lab/inventory.yml playbooks/site.yml -e @secrets.yml
  plinth run playbooks/example-local.yml --check --diff   preview on this machine
  plinth adhoc pg -i hosts.yml -m ping                one module on a pattern's hosts (like ansible -m)
  plinth inventory -i hosts.ini --graph             the groups and hosts plinth reads (like ansible-inventory)
  plinth modules copy                               arguments of a module

Exit codes: 0 ok, 1 error, 2 a host failed, 3 a host unreachable, 4 parse error, 5 bad options, 99 interrupted.`,
  );

const runCommandSpec = addRunOptions(
  program.command('run').description("run a playbook against the inventory's hosts (like ansible-playbook)").argument('<playbook>', 'playbook file (YAML list of plays)'),
).action(async (playbook: string, flags: RunFlags) => {
  process.exitCode = await runCommand(playbook, flags);
});

program
  .command('modules')
  .description("list the modules (plinth's and ./library's), or show one module's arguments (from its JSON Schema)")
  .argument('[name]', 'a module name')
  .option('--schema', 'print the JSON Schema itself')
  .option('--library <dir...>', "folders of a playbook's own modules (default: ./library)")
  .action(async (name: string | undefined, flags: { schema?: boolean; library?: string[] }) => {
    process.stdout.write(await describeModules(name, !!flags.schema, flags.library));
  });

program
  .command('schemas')
  .description('write the JSON Schemas of inventories, playbooks, task files and role meta (for editors)')
  .argument('[dir]', 'folder to write to', 'schemas')
  .action(async (dir: string) => {
    process.stdout.write(await writeSchemas(dir));
  });

registerAdhocCommand(program);
registerInventoryCommand(program);
registerPlanCommands(program);
registerVaultCommands(program);
registerLabCommands(program);

// `plinth --help` shows the flags of `plinth run` too: it is the command people come for.
program.addHelpText('after', () => `\nplinth run flags (also for plan and apply):\n${runCommandSpec.options.map((o) => `  ${o.flags.padEnd(30)} ${o.description}`).join('\n')}\n`);

function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCode.Ok : ExitCode.BadOptions;
  if (e instanceof UsageError || e instanceof PatternError) return ExitCode.BadOptions;
  if (e instanceof SourceError) return ExitCode.ParseError;
  return ExitCode.Error;
}

async function main(): Promise<void> {
  if (process.argv.length <= 2) {
    program.outputHelp();
    return;
  }
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    process.exitCode = exitCodeFor(e);
    if (!(e instanceof CommanderError)) reportError(e);
  }
}

/** A user's mistake is one line (or one per problem); anything else is a bug in plinth and shows its stack. */
function reportError(e: unknown): void {
  if (e instanceof UserError) {
    const problems = e instanceof SourceErrors ? e.problems.map((p) => p.message) : [e.message];
    for (const problem of problems) process.stderr.write(`ERROR! ${redactor.redact(sources.displayText(problem))}\n`);
    if (e instanceof SourceErrors) process.stderr.write(`${e.problems.length} problems${e.capped ? ' (stopped looking after that many)' : ''}\n`);
    if (process.env.PLINTH_DEBUG) process.stderr.write(redactor.redact(String(e.stack ?? '')) + '\n');
    return;
  }
  const text = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
  process.stderr.write(`ERROR! internal error (a bug in plinth), please report it with this trace:\n${redactor.redact(text)}\n`);
}

await main();
