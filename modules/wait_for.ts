// wait_for: waits until a TCP port is open (or closed, or drained of connections), a file is
// present (or absent), or a regular expression matches a file or a port's banner; or just
// sleeps for `timeout` seconds. The probes run on the host, as Ansible's do, so 127.0.0.1 is
// the host itself. Waiting changes nothing: check mode probes once and, when the condition does
// not hold yet, reports "unknown" instead of waiting.
import { ModuleError, type Module, type ModuleContext, type ArgsOf } from '../engine/types.js';
import { compilePythonRegexWith } from './support/python-regex.js';

type WaitForArgs = ArgsOf<typeof schema>;

interface Probe {
  satisfied: boolean;
  match?: RegExpExecArray;
}

interface Observed {
  satisfied: boolean;
  /** Seconds spent waiting. */
  elapsed: number;
  match_groups?: string[];
  match_groupdict?: Record<string, string>;
}

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  allOf: [
    { not: { required: ['port', 'path'] }, 'x-message': 'port and path are mutually exclusive' },
    {
      anyOf: [{ not: { properties: { state: { const: 'drained' } }, required: ['state'] } }, { required: ['port'] }],
      'x-message': 'state drained needs a port (it counts established connections)',
    },
    {
      anyOf: [{ not: { required: ['search_regex'] } }, { anyOf: [{ required: ['port'] }, { required: ['path'] }], properties: { state: { enum: ['started', 'present'] } } }],
      'x-message': 'search_regex needs a port or a path, and state started or present',
    },
  ],
  properties: {
    host: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'address or name to connect to, as seen from the host' },
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'TCP port to wait for' },
    path: { type: 'string', minLength: 1, description: 'file to wait for (present, absent, or holding search_regex)' },
    state: {
      enum: ['started', 'present', 'stopped', 'absent', 'drained'],
      default: 'started',
      description: 'started/present: the port accepts connections or the file exists; stopped/absent: the port refuses or the file is gone; drained: no established connections on the port',
    },
    search_regex: { type: 'string', minLength: 1, description: 'Python regular expression that must match the file or what the port sends first' },
    delay: { type: 'number', minimum: 0, default: 0, description: 'seconds to wait before the first check' },
    timeout: { type: 'number', minimum: 0, default: 300, description: 'seconds to wait at most (without port or path: seconds to sleep)' },
    sleep: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'seconds between checks' },
    connect_timeout: { type: 'number', exclusiveMinimum: 0, default: 5, description: 'seconds one connection attempt may take' },
    msg: { type: 'string', description: 'message of the failure when the time is up' },
  },
} as const;

export const wait_for: Module<typeof schema, Observed, never> = {
  name: 'wait_for',
  description: 'Wait for a port, a file or a text in a file (or just wait)',
  schema,

  async observe(ctx, args) {
    checkArgs(args);
    const start = Date.now();
    const elapsed = () => Math.round((Date.now() - start) / 1000);
    if (args.port === undefined && args.path === undefined) {
      if (!ctx.check) await sleep(args.timeout);
      return { satisfied: true, elapsed: elapsed() };
    }
    if (!ctx.check && args.delay) await sleep(args.delay);
    for (;;) {
      const probe = await probeOnce(ctx, args);
      if (probe.satisfied || ctx.check || Date.now() - start >= args.timeout * 1000) {
        return { satisfied: probe.satisfied, elapsed: elapsed(), ...matchResult(probe.match) };
      }
      await sleep(args.sleep);
    }
  },

  plan(observed, args, ctx) {
    const result = {
      elapsed: observed.elapsed,
      state: args.state,
      ...(args.port !== undefined ? { port: args.port } : {}),
      ...(args.path !== undefined ? { path: args.path } : {}),
      ...(args.search_regex !== undefined ? { search_regex: args.search_regex } : {}),
      ...(observed.match_groups ? { match_groups: observed.match_groups, match_groupdict: observed.match_groupdict } : {}),
    };
    if (observed.satisfied) return { changed: false, summary: `${describe(args)}: done`, result };
    if (ctx.check) {
      return { unknown: true, summary: describe(args), reason: `not yet; a real run waits up to ${args.timeout} s` };
    }
    throw new ModuleError(args.msg ?? timeoutMessage(args), { elapsed: observed.elapsed });
  },

  async apply() {
    return { changed: false };
  },
};

/** The schema states which fields go together; what it cannot say is whether search_regex compiles. */
function checkArgs(args: WaitForArgs): void {
  if (args.search_regex !== undefined) searchRegex(args.search_regex);
}

/** Ansible searches with re.MULTILINE: ^ and $ match at every line. */
function searchRegex(pattern: string): RegExp {
  return compilePythonRegexWith(pattern, 'm', 'search_regex').regex;
}

async function probeOnce(ctx: ModuleContext, args: WaitForArgs): Promise<Probe> {
  const wantPresent = args.state === 'started' || args.state === 'present';
  if (args.path !== undefined) {
    const st = await ctx.host.stat(args.path, { ...ctx.become, follow: true });
    if (!wantPresent) return { satisfied: !st };
    if (!st) return { satisfied: false };
    if (args.search_regex === undefined) return { satisfied: true };
    const content = st.type === 'file' ? await ctx.host.read(args.path, { ...ctx.become }) : null;
    const match = content ? searchRegex(args.search_regex).exec(content.toString('utf8')) : null;
    return match ? { satisfied: true, match } : { satisfied: false };
  }
  if (args.state === 'drained') return { satisfied: (await establishedConnections(ctx, args.port!)) === 0 };
  const banner = await connect(ctx, args);
  if (!wantPresent) return { satisfied: banner === null };
  if (banner === null) return { satisfied: false };
  if (args.search_regex === undefined) return { satisfied: true };
  const match = searchRegex(args.search_regex).exec(banner);
  return match ? { satisfied: true, match } : { satisfied: false };
}

/**
 * One TCP connection from the host with bash's /dev/tcp (no netcat or Python needed). Returns
 * null when the connection is refused or times out, else what the peer sent within
 * connect_timeout (read only when a search_regex needs it).
 */
async function connect(ctx: ModuleContext, args: WaitForArgs): Promise<string | null> {
  // bash's read keeps what arrived when its own timeout ends (a server that waits for the client,
  // like sshd after its banner); the outer timeout only bounds a connect that hangs.
  const read = args.search_regex !== undefined ? '; IFS= read -r -d "" -n 65536 -t "$2" data <&3; printf %s "$data"' : '';
  const r = await ctx.host.exec(['timeout', String(args.connect_timeout * 2), 'bash', '-c', `exec 3<>"/dev/tcp/$0/$1" || exit 1${read}`, args.host, String(args.port), String(args.connect_timeout)], {
    timeout: (args.connect_timeout * 2 + 30) * 1000,
  });
  if (r.exitCode === 127 && /bash|timeout/.test(r.stderr)) throw new ModuleError(`wait_for: the host needs bash and timeout to probe ports: ${r.stderr.trim()}`);
  return r.exitCode === 0 ? r.stdout : null;
}

async function establishedConnections(ctx: ModuleContext, port: number): Promise<number> {
  const r = await ctx.host.exec(['ss', '-Htn', 'state', 'established', `( sport = :${port} )`]);
  if (r.exitCode !== 0) throw new ModuleError(`wait_for: ss failed on the host: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
  return r.stdout.split('\n').filter((l) => l.trim()).length;
}

function matchResult(match: RegExpExecArray | undefined): Pick<Observed, 'match_groups' | 'match_groupdict'> {
  if (!match) return {};
  return { match_groups: match.slice(1).map((g) => g ?? ''), match_groupdict: { ...(match.groups ?? {}) } };
}

function describe(args: WaitForArgs): string {
  const what = args.path !== undefined ? args.path : args.port !== undefined ? `${args.host}:${args.port}` : null;
  if (!what) return `sleep ${args.timeout} s`;
  const regex = args.search_regex !== undefined ? ` to hold /${args.search_regex}/` : '';
  return `wait for ${what}${regex} (${args.state})`;
}

/** Ansible's messages, so that failed_when and until on `msg` keep working. */
function timeoutMessage(args: WaitForArgs): string {
  if (args.path !== undefined) {
    if (args.search_regex !== undefined) return `Timeout when waiting for search string ${args.search_regex} in ${args.path}`;
    return args.state === 'absent' || args.state === 'stopped' ? `Timeout when waiting for ${args.path} to be absent.` : `Timeout when waiting for file ${args.path}`;
  }
  if (args.state === 'drained') return `Timeout when waiting for ${args.host}:${args.port} to drain`;
  if (args.state === 'stopped' || args.state === 'absent') return `Timeout when waiting for ${args.host}:${args.port} to stop.`;
  if (args.search_regex !== undefined) return `Timeout when waiting for search string ${args.search_regex} in ${args.host}:${args.port}`;
  return `Timeout when waiting for ${args.host}:${args.port}`;
}

function sleep(seconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}
