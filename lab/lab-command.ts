// `plinth lab …`: the command-line face of the lab. Progress goes to stderr; stdout carries
// the result (human text, or JSON with --json). Errors are LabErrors thrown to the caller,
// which prints them and sets the exit code; run the program with parseAsync.
import { type Command, Option } from 'commander';
import { LabError, type Progress } from './lab-error.js';
import { blogLab, labFromInventory, numberedLab, type LabSpec } from './lab-inventory.js';
import type { LabStatus, UpResult } from './lab.js';

/** The lab's code is loaded only when a lab command runs: `plinth run` starts faster without it. */
const labCode = () => import('./lab.js');
import { DEFAULT_LAB, DEFAULT_STATE_DIR } from './state-dir.js';

const toStderr: Progress = (line) => process.stderr.write(`lab: ${line}\n`);

function wantsJson(cmd: Command): boolean {
  return cmd.optsWithGlobals().json === true;
}

function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

function printUp(r: UpResult): void {
  const rows = [['HOST', 'ADDRESS', 'GROUPS'], ...r.hosts.map((h) => [h.name, h.address, h.groups.join(',') || '-'])];
  process.stdout.write(table(rows));
  const base = r.timings.baseBuild === null ? 'cached' : `built in ${r.timings.baseBuild.toFixed(0)} s`;
  process.stdout.write(`base image: ${base}; up: ${r.timings.up} s\n`);
  process.stdout.write(`inventory: ${r.inventoryPath}\nknown_hosts: ${r.knownHostsPath}\n`);
}

function printStatus(s: LabStatus): void {
  process.stdout.write(`lab ${s.lab}${s.subnet ? ` (${s.subnet})` : ''}\n`);
  if (s.hosts.length === 0) {
    process.stdout.write('not up\n');
    return;
  }
  const rows = [['HOST', 'ADDRESS', 'RUNNING', 'SSHD'], ...s.hosts.map((h) => [h.name, h.address, h.running ? 'yes' : 'no', h.sshd ? 'answers' : '-'])];
  process.stdout.write(table(rows));
  process.stdout.write(`bridge: ${s.bridge ? 'up' : 'missing'}; apt proxy: ${s.aptProxy ? 'running' : 'stopped'}\n`);
  if (s.inventoryPath) process.stdout.write(`inventory: ${s.inventoryPath}\n`);
}

async function specFrom(opts: { hosts?: string; inventory?: string }): Promise<LabSpec | undefined> {
  if (opts.hosts !== undefined && opts.inventory !== undefined) {
    throw new LabError('give either --hosts or --inventory, not both');
  }
  if (opts.hosts !== undefined) {
    if (!/^\d+$/.test(opts.hosts)) throw new LabError(`--hosts takes a number, not "${opts.hosts}"`);
    return numberedLab(Number(opts.hosts));
  }
  if (opts.inventory !== undefined) return labFromInventory(opts.inventory);
  return undefined;
}

const labOption = () => new Option('--lab <name>', `which lab (default: $PLINTH_LAB_NAME, else "${DEFAULT_LAB}")`);

export function registerLabCommands(program: Command): void {
  const lab = program
    .command('lab')
    .description('disposable Debian 12 hosts on this machine (systemd-nspawn, one network namespace each, root needed)')
    .enablePositionalOptions()
    .addHelpText(
      'after',
      `
Several labs can run side by side: --lab NAME (or PLINTH_LAB_NAME) names one; each has its own
state directory, subnet (198.18.N.0/24), network namespaces and package proxy, and \`down\` of one
never touches another. The default lab's state, the shared base image and the default inventory
live in ${DEFAULT_STATE_DIR} (PLINTH_LAB_DIR overrides); named labs in ${DEFAULT_STATE_DIR}/labs/NAME.
The test suite (npm run test:all) uses its own lab, "test", and leaves the others alone.
Host tools: scripts/install-debian-packages.sh installs them (mmdebstrap systemd-container iproute2 openssh-client apt-cacher-ng).`,
    );

  lab
    .command('up')
    .description(
      `start the lab (default: ${blogLab()
        .hosts.map((h) => h.name)
        .join(', ')}); adds missing hosts to a running lab`,
    )
    .addOption(new Option('--hosts <n>', 'N plain hosts lab-1 … lab-N instead of the default lab').conflicts('inventory'))
    .addOption(new Option('--inventory <file>', 'the hosts and groups of this YAML inventory'))
    .option('--write-inventory <file>', `where to write the lab inventory (default <lab state>/inventory.yml)`)
    .addOption(labOption())
    .option('--json', 'print the result as JSON')
    .action(async (opts: { hosts?: string; inventory?: string; writeInventory?: string; lab?: string }, cmd: Command) => {
      const spec = await specFrom(opts);
      const result = await (await labCode()).up({
        spec,
        inventoryPath: opts.writeInventory,
        lab: opts.lab,
        progress: toStderr,
      });
      if (wantsJson(cmd)) printJson(result);
      else printUp(result);
    });

  lab
    .command('down')
    .description('stop every host of the lab and remove what the lab made (safe to run twice; other labs untouched)')
    .addOption(labOption())
    .option('--json', 'print the result as JSON')
    .action(async (opts: { lab?: string }, cmd: Command) => {
      const result = await (await labCode()).down({ lab: opts.lab, progress: toStderr });
      if (wantsJson(cmd)) printJson(result);
      else process.stdout.write(`lab down in ${result.seconds} s\n`);
    });

  lab
    .command('status')
    .description('each host, its address, whether it runs and whether sshd answers (every lab unless --lab)')
    .addOption(labOption())
    .option('--json', 'print the result as JSON (a list of labs)')
    .action(async (opts: { lab?: string }, cmd: Command) => {
      const code = await labCode();
      const named = opts.lab ?? process.env.PLINTH_LAB_NAME;
      const result = named ? [await code.status({ lab: named })] : await code.statusOfAll();
      if (wantsJson(cmd)) printJson(result);
      else
        result.forEach((s, i) => {
          if (i > 0) process.stdout.write('\n');
          printStatus(s);
        });
    });

  lab
    .command('ssh')
    .description('a shell on a lab host, or run CMD there (as root, with the lab key, host key checked)')
    .addOption(labOption())
    .argument('<host>', 'lab host name')
    .argument('[cmd...]', "command run by the host's shell, as with ssh (put it after -- when it has options)")
    // Options after the host belong to the remote command; the parent program may not use
    // positional options, so passThroughOptions is not available here.
    .allowUnknownOption()
    .helpOption(false)
    .action(async (host: string, command: string[], opts: { lab?: string }) => {
      process.exitCode = await (await labCode()).ssh(host, command, { lab: opts.lab });
    });
}
