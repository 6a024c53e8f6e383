// apt: Debian packages present, absent or latest. dpkg's status decides what is installed;
// `apt-cache policy` gives the version that would be installed. A cache update alone is not
// a change (it alters no configuration), so update_cache without cache_valid_time stays
// idempotent in the report. `apt-cache policy` is asked only for what dpkg cannot settle.
import { ModuleError, type ArgsOf, type Module, type ModuleContext } from '../engine/types.js';

type AptArgs = ArgsOf<typeof schema>;

interface PackageState {
  name: string;
  /** Requested version (name=version), if any. */
  version?: string;
  installed: string | null;
  candidate: string | null;
  /** A .deb file on the host that provides this package (the `deb` argument). */
  deb?: string;
}

interface Observed {
  packages: PackageState[];
  cacheAge: number | null;
  /** What `apt-get autoremove` would remove (asked only with autoremove: true). */
  autoremovable?: string[];
}

interface AptAction {
  updateCache: boolean;
  install: string[];
  remove: string[];
  autoremove?: string[];
}

const PACKAGE = {
  type: 'string',
  pattern: '^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:-]+)?$',
  description: 'must be a Debian package name, or name=version (e.g. postgresql-15, jq=1.6-2.1+deb12u1)',
} as const;

const STAMPS = ['/var/lib/apt/periodic/update-success-stamp', '/var/lib/apt/lists'];

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  properties: {
    name: {
      'x-aliases': ['package', 'pkg'],
      oneOf: [PACKAGE, { type: 'array', items: PACKAGE }],
      description: 'package name(s); name=version pins a version',
    },
    state: { enum: ['present', 'absent', 'latest'], default: 'present', description: 'installed, removed, or upgraded to the candidate version' },
    update_cache: { type: 'boolean', default: false, description: 'run apt-get update first' },
    cache_valid_time: { type: 'integer', minimum: 0, description: 'skip the update when the cache is younger than this many seconds' },
    install_recommends: { type: 'boolean', description: 'install recommended packages (default: apt’s configuration)' },
    purge: { type: 'boolean', default: false, description: 'with state absent: remove configuration files too' },
    deb: { type: 'string', pattern: '^/.*\\.deb$', description: 'a .deb file on the host to install (its package and version are read from it)' },
    autoremove: { type: 'boolean', default: false, description: 'remove packages nothing depends on any more (apt-get autoremove)' },
    default_release: { type: 'string', pattern: '^[A-Za-z0-9.+~/-]+$', description: 'the release to take packages from, e.g. bookworm-backports (apt -t)' },
  },
} as const;

export const apt: Module<typeof schema, Observed, AptAction> = {
  name: 'apt',
  description: 'Install, upgrade or remove Debian packages',
  schema,

  async observe(ctx, args) {
    const wanted: { name: string; version?: string; deb?: string }[] = names(args).map(splitVersion);
    if (args.deb) wanted.push(await debPackage(ctx, args.deb));
    // The cache's age and dpkg's status are independent: asked together, one round trip.
    const [installed, age] = await Promise.all([
      installedVersions(
        ctx,
        wanted.map((p) => p.name),
      ),
      args.update_cache ? cacheAge(ctx) : null,
    ]);
    // `apt-cache policy` reads the whole package cache (seconds on a small host): asked only when
    // the plan needs the candidate, for a package that is missing, not the pinned version, or latest.
    const unsettled = wanted.filter((p) => needsCandidate(args.state, p.version, installed.get(p.name)));
    const fromRepository = unsettled.filter((p) => !p.deb);
    const candidates = fromRepository.length
      ? await candidateVersions(
          ctx,
          fromRepository.map((p) => p.name),
          args.default_release,
        )
      : new Map<string, string>();
    return {
      packages: wanted.map((p) => ({ ...p, installed: installed.get(p.name) ?? null, candidate: p.deb ? p.version! : (candidates.get(p.name) ?? null) })),
      cacheAge: age,
      ...(args.autoremove ? { autoremovable: await autoremovable(ctx) } : {}),
    };
  },

  plan(observed, args, ctx) {
    const state = args.state;
    const updateCache = args.update_cache && (args.cache_valid_time === undefined || observed.cacheAge === null || observed.cacheAge > args.cache_valid_time);
    const install: string[] = [];
    const remove: string[] = [];
    const installNames: string[] = [];
    const versions: Record<string, string | null> = {};
    for (const p of observed.packages) {
      if (state === 'absent') {
        if (p.installed) remove.push(p.name);
        continue;
      }
      const target = p.version ?? (state === 'latest' ? p.candidate : null);
      if (p.installed && (target === null || p.installed === target)) continue;
      if (!p.candidate) {
        const reason = `package ${p.name} has no installation candidate`;
        if (updateCache && ctx.check) return { unknown: true, summary: `install ${p.name}`, reason: `${reason} until the cache is updated` };
        if (!updateCache) throw new ModuleError(`${reason} (is the name right? is the apt cache up to date?)`);
      }
      install.push(p.deb ?? (p.version ? `${p.name}=${p.version}` : p.name));
      installNames.push(p.name);
      versions[p.name] = p.version ?? p.candidate;
    }
    const autoremove = observed.autoremovable?.filter((n) => !install.some((i) => i.split('=')[0] === n)) ?? [];
    const result = { installed: install, removed: remove, versions, cache_updated: updateCache, ...(args.autoremove ? { autoremoved: autoremove } : {}) };
    if (!install.length && !remove.length && !updateCache && !autoremove.length) return { changed: false, summary: 'packages up to date', result };
    const parts = [
      updateCache ? 'update cache' : null,
      install.length ? `install ${install.map((n, i) => (n.includes('=') || !versions[installNames[i]] ? n : `${n} (${versions[installNames[i]]})`)).join(', ')}` : null,
      remove.length ? `${args.purge ? 'purge' : 'remove'} ${remove.join(', ')}` : null,
      autoremove.length ? `autoremove ${autoremove.join(', ')}` : null,
    ].filter(Boolean);
    return {
      changed: true,
      summary: parts.join('; '),
      diffs: [
        ...(install.length || remove.length ? [packageDiff(observed.packages, installNames, remove)] : []),
        ...(autoremove.length ? [{ target: 'packages nothing needs', before: autoremove.join('\n') + '\n', after: '' }] : []),
      ],
      action: { updateCache, install, remove, ...(autoremove.length ? { autoremove } : {}) },
      result,
    };
  },

  async apply(ctx, action, args) {
    if (action.updateCache) await aptGet(ctx, ['update'], 'apt-get update');
    if (action.install.length) {
      const recommends = args.install_recommends === undefined ? [] : [`-o`, `APT::Install-Recommends=${args.install_recommends ? 'true' : 'false'}`];
      const release = args.default_release ? ['-t', args.default_release] : [];
      await aptGet(ctx, ['-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold', ...recommends, ...release, 'install', ...action.install], 'apt-get install');
    }
    if (action.remove.length) await aptGet(ctx, [args.purge ? 'purge' : 'remove', ...action.remove], 'apt-get remove');
    if (action.autoremove?.length) await aptGet(ctx, ['autoremove', ...(args.purge ? ['--purge'] : [])], 'apt-get autoremove');
    // A .deb path in the install list stands for the package it holds.
    const debName = args.deb && action.install.includes(args.deb) ? (await debPackage(ctx, args.deb)).name : undefined;
    const installed = await installedVersions(
      ctx,
      action.install.map((n) => (n === args.deb ? debName! : n.split('=')[0])),
    );
    return {
      changed: action.install.length > 0 || action.remove.length > 0 || !!action.autoremove?.length,
      result: { versions: Object.fromEntries(installed) },
    };
  },
};

export function needsCandidate(state: AptArgs['state'], version: string | undefined, installed: string | undefined): boolean {
  if (state === 'absent') return false;
  return !installed || state === 'latest' || (version !== undefined && version !== installed);
}

function names(args: AptArgs): string[] {
  if (args.name === undefined) return [];
  return Array.isArray(args.name) ? args.name : [args.name];
}

function splitVersion(spec: string): { name: string; version?: string } {
  const [name, version] = spec.split('=');
  return version ? { name, version } : { name };
}

/** dpkg's view: a package is installed when its status is "install ok installed". */
async function installedVersions(ctx: ModuleContext, packages: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!packages.length) return out;
  const r = await ctx.host.exec(['env', 'LC_ALL=C', 'dpkg-query', '-W', '-f', '${Package}\\t${Status}\\t${Version}\\n', ...packages]);
  if (r.exitCode === 127) throw new ModuleError('dpkg-query not found: the apt module needs a Debian-based host');
  return parseDpkgQuery(r.stdout);
}

export function parseDpkgQuery(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const [name, status, version] = line.split('\t');
    if (name && status === 'install ok installed' && version) out.set(name.split(':')[0], version);
  }
  return out;
}

async function candidateVersions(ctx: ModuleContext, packages: string[], release?: string): Promise<Map<string, string>> {
  const r = await ctx.host.exec(['env', 'LC_ALL=C', 'apt-cache', ...(release ? ['-t', release] : []), 'policy', ...packages]);
  return parseAptPolicy(r.stdout);
}

export function parseAptPolicy(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | null = null;
  for (const line of stdout.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head) current = head[1].split(':')[0];
    const candidate = /^\s+Candidate:\s*(\S+)/.exec(line);
    if (current && candidate && candidate[1] !== '(none)') out.set(current, candidate[1]);
  }
  return out;
}

async function cacheAge(ctx: ModuleContext): Promise<number | null> {
  // Asked together (one round trip); the first stamp that exists is the one that counts.
  const stamps = await Promise.all(STAMPS.map((path) => ctx.host.stat(path, { follow: true })));
  const st = stamps.find((s) => s !== null);
  return st ? Math.floor(Date.now() / 1000) - st.mtime : null;
}

async function aptGet(ctx: ModuleContext, argv: string[], what: string): Promise<void> {
  const r = await ctx.host.exec(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', '-y', '-q', '-o', 'DPkg::Lock::Timeout=300', ...argv], {
    ...ctx.become,
    timeout: 3600_000,
  });
  if (r.exitCode !== 0) {
    const errors = r.stderr
      .split('\n')
      .filter((l) => /^E:|error/i.test(l))
      .join('; ');
    throw new ModuleError(`${what} failed: ${errors || r.stderr.trim() || r.stdout.trim().split('\n').slice(-3).join('; ')}`);
  }
}

function packageDiff(packages: PackageState[], install: string[], remove: string[]) {
  const line = (p: PackageState, v: string | null) => `${p.name}${v ? ` ${v}` : ' (not installed)'}`;
  const touched = packages.filter((p) => install.some((n) => n.split('=')[0] === p.name) || remove.includes(p.name));
  return {
    target: 'packages',
    before: touched.map((p) => line(p, p.installed)).join('\n') + '\n',
    after: touched.map((p) => line(p, remove.includes(p.name) ? null : (p.version ?? p.candidate))).join('\n') + '\n',
  };
}

/** The package and version a .deb file holds. */
async function debPackage(ctx: ModuleContext, file: string): Promise<{ name: string; version: string; deb: string }> {
  const r = await ctx.host.exec(['dpkg-deb', '--showformat=${Package}\\t${Version}\\n', '--show', file], { ...ctx.become });
  if (r.exitCode !== 0) throw new ModuleError(`apt: ${file} is not a readable .deb on ${ctx.host.name}: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
  const [name, version] = r.stdout.trim().split('\t');
  return { name, version, deb: file };
}

/** `apt-get -s autoremove`: the "Remv name [version]" lines of the simulation. */
async function autoremovable(ctx: ModuleContext): Promise<string[]> {
  const r = await ctx.host.exec(['env', 'LC_ALL=C', 'apt-get', '-s', 'autoremove']);
  if (r.exitCode !== 0) throw new ModuleError(`apt-get -s autoremove failed: ${r.stderr.trim()}`);
  return parseAutoremove(r.stdout);
}

function parseAutoremove(stdout: string): string[] {
  return [...stdout.matchAll(/^Remv (\S+)/gm)].map((m) => m[1].split(':')[0]);
}
