// ~/.ssh/config the way OpenSSH reads it: Host blocks matched against the name the user
// typed, the first value obtained for an option wins, IdentityFile accumulates.
// Supported: Host (patterns, `!` negation, `*`/`?`), Match all, Include, HostName, User,
// Port, IdentityFile, IdentitiesOnly, ProxyJump, StrictHostKeyChecking, UserKnownHostsFile,
// ConnectTimeout, ServerAliveInterval, ServerAliveCountMax. Other Match criteria are not
// evaluated: such blocks are skipped.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { wildcardMatch } from './known-hosts.js';
import type { SshOptions } from './ssh.js';
import { UserError } from '../user-error.js';

export interface SshConfigBlock {
  /** Host patterns; null for the options before the first Host line (they apply to every host). */
  patterns: string[] | null;
  /** A Match block that plinth cannot evaluate: never applied. */
  unsupportedMatch?: string;
  options: Array<{ keyword: string; args: string[]; file: string; line: number }>;
}

export interface JumpSpec {
  user?: string;
  host: string;
  port?: number;
}

export interface ResolvedSshHost {
  /** The name the user typed (the Host alias). */
  alias: string;
  hostName: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  identitiesOnly?: boolean;
  /** Jump hosts, first hop first; undefined when none (or `ProxyJump none`). */
  proxyJump?: JumpSpec[];
  strictHostKeyChecking?: 'yes' | 'accept-new' | 'no';
  userKnownHostsFiles?: string[];
  connectTimeoutSeconds?: number;
  serverAliveIntervalSeconds?: number;
  serverAliveCountMax?: number;
}

export class SshConfigError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'SshConfigError';
  }
}

interface ParseContext {
  file: string;
  /** Directory that relative Include paths are resolved against (~/.ssh for user files). */
  includeBase: string;
  depth: number;
}

/** Splits an option line into words; double quotes group words as in OpenSSH. */
function splitArgs(text: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) words.push(m[1] ?? m[2]);
  return words;
}

export function parseSshConfig(text: string, file = '(ssh config)', includeBase = path.dirname(file)): SshConfigBlock[] {
  return parseInto([{ patterns: null, options: [] }], text, { file, includeBase, depth: 0 });
}

function parseInto(blocks: SshConfigBlock[], text: string, ctx: ParseContext): SshConfigBlock[] {
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!m) throw new SshConfigError(`${ctx.file}:${index + 1}: missing argument for '${line}'`);
    const keyword = m[1].toLowerCase();
    const args = splitArgs(m[2].replace(/\s+#.*$/, ''));
    if (keyword === 'host') blocks.push({ patterns: args, options: [] });
    else if (keyword === 'match') blocks.push(matchBlock(args));
    else if (keyword === 'include') includeFiles(blocks, args, ctx);
    else blocks[blocks.length - 1].options.push({ keyword, args, file: ctx.file, line: index + 1 });
  });
  return blocks;
}

function matchBlock(args: string[]): SshConfigBlock {
  if (args.length === 1 && args[0].toLowerCase() === 'all') return { patterns: ['*'], options: [] };
  return { patterns: [], unsupportedMatch: args.join(' '), options: [] };
}

function includeFiles(blocks: SshConfigBlock[], args: string[], ctx: ParseContext): void {
  if (ctx.depth >= 16) throw new SshConfigError(`${ctx.file}: Include nested too deeply`);
  for (const arg of args) {
    const pattern = path.resolve(ctx.includeBase, expandHome(arg));
    for (const file of globFiles(pattern)) {
      const text = readFileSync(file, 'utf8');
      parseInto(blocks, text, { file, includeBase: ctx.includeBase, depth: ctx.depth + 1 });
    }
  }
}

/** Wildcards in the last path component only, which covers `Include config.d/*`. */
function globFiles(pattern: string): string[] {
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (!/[*?]/.test(base)) {
    try {
      readFileSync(pattern);
      return [pattern];
    } catch {
      return [];
    }
  }
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => wildcardMatch(n, base))
    .sort()
    .map((n) => path.join(dir, n));
}

/** OpenSSH's Host matching: any positive pattern matches and no negated one does. */
export function hostPatternsMatch(patterns: string[], alias: string): boolean {
  const name = alias.toLowerCase();
  let matched = false;
  for (const p of patterns) {
    const negated = p.startsWith('!');
    if (!wildcardMatch(name, (negated ? p.slice(1) : p).toLowerCase())) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

export function parseProxyJump(value: string): JumpSpec[] | undefined {
  if (value.toLowerCase() === 'none') return undefined;
  return value.split(',').map((hop) => parseJumpHop(hop.trim()));
}

function parseJumpHop(hop: string): JumpSpec {
  const text = hop.replace(/^ssh:\/\//, '');
  const at = text.lastIndexOf('@');
  const user = at >= 0 ? text.slice(0, at) : undefined;
  const rest = at >= 0 ? text.slice(at + 1) : text;
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest) ?? /^([^:]+)(?::(\d+))?$/.exec(rest);
  if (!m) throw new SshConfigError(`invalid ProxyJump host '${hop}'`);
  return { user: user || undefined, host: m[1], port: m[2] ? Number(m[2]) : undefined };
}

function expandHome(p: string, home = os.homedir()): string {
  return p === '~' ? home : p.startsWith('~/') ? path.join(home, p.slice(2)) : p;
}

/** %-tokens of IdentityFile/UserKnownHostsFile/HostName (the common ones). */
function expandTokens(text: string, tokens: Record<string, string>): string {
  return text.replace(/%(.)/g, (all, c: string) => (c === '%' ? '%' : (tokens[c] ?? all)));
}

function strictness(value: string): ResolvedSshHost['strictHostKeyChecking'] {
  const v = value.toLowerCase();
  if (v === 'accept-new') return 'accept-new';
  if (v === 'no' || v === 'off') return 'no';
  // 'ask' cannot ask in an unattended run: it behaves as 'yes'.
  return 'yes';
}

/** The settings that apply to `alias`, first value winning as in OpenSSH. */
export function resolveSshHost(blocks: SshConfigBlock[], alias: string, localUser = safeUserName()): ResolvedSshHost {
  const first = new Map<string, string[]>();
  const identityFiles: string[] = [];
  const knownHosts: string[] = [];
  for (const block of blocks) {
    if (block.unsupportedMatch !== undefined) continue;
    if (block.patterns && !hostPatternsMatch(block.patterns, alias)) continue;
    for (const { keyword, args } of block.options) {
      if (keyword === 'identityfile') identityFiles.push(...args);
      else if (!first.has(keyword)) first.set(keyword, args);
    }
  }
  const get = (k: string) => first.get(k)?.[0];
  const hostName = expandTokens(get('hostname') ?? alias, { h: alias });
  const port = get('port') ? Number(get('port')) : undefined;
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new SshConfigError(`invalid Port '${get('port')}' for host ${alias}`);
  }
  const user = get('user');
  const tokens = { h: hostName, n: alias, p: String(port ?? 22), r: user ?? localUser, u: localUser, d: os.homedir() };
  for (const f of first.get('userknownhostsfile') ?? []) {
    if (f.toLowerCase() !== 'none') knownHosts.push(expandHome(expandTokens(f, tokens)));
  }
  const numeric = (k: string) => (get(k) === undefined ? undefined : Number(get(k)));
  return {
    alias,
    hostName,
    user,
    port,
    identityFiles: identityFiles.map((f) => expandHome(expandTokens(f, tokens))),
    identitiesOnly: get('identitiesonly') === undefined ? undefined : get('identitiesonly')!.toLowerCase() === 'yes',
    proxyJump: get('proxyjump') === undefined ? undefined : parseProxyJump(get('proxyjump')!),
    strictHostKeyChecking: get('stricthostkeychecking') === undefined ? undefined : strictness(get('stricthostkeychecking')!),
    userKnownHostsFiles: first.has('userknownhostsfile') ? knownHosts : undefined,
    connectTimeoutSeconds: numeric('connecttimeout'),
    serverAliveIntervalSeconds: numeric('serveraliveinterval'),
    serverAliveCountMax: numeric('serveralivecountmax'),
  };
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

/** Reads ~/.ssh/config (or `file`); a missing file is an empty config. */
export function loadSshConfig(file = path.join(os.homedir(), '.ssh', 'config')): SshConfigBlock[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [{ patterns: null, options: [] }];
    throw e;
  }
  return parseSshConfig(text, file, path.join(os.homedir(), '.ssh'));
}

/** What the inventory says about a host's connection (ansible_host, ansible_port, ...). */
export interface InventoryConnection {
  /** Inventory name of the host. */
  name: string;
  /** ansible_host; also the name matched against `Host` patterns (as `ssh` is run with it). */
  host?: string;
  port?: number;
  user?: string;
  privateKeyPath?: string;
}

/** OpenSSH's default identity files, in the order it tries them. */
const DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'];

/**
 * SshOptions for an inventory host: inventory values win, then ~/.ssh/config, then OpenSSH's
 * defaults; `settings` carries the rest (secrets, become, host key policy when set explicitly).
 * Of several IdentityFiles, the first that exists is used.
 */
export function sshOptionsFor(
  blocks: SshConfigBlock[],
  conn: InventoryConnection,
  settings: Partial<Omit<SshOptions, 'name' | 'host' | 'port' | 'user' | 'privateKeyPath' | 'proxyJump'>> = {},
  depth = 0,
): SshOptions {
  if (depth > 8) throw new SshConfigError(`ProxyJump chain for ${conn.name} is too long (a loop?)`);
  const alias = conn.host ?? conn.name;
  const cfg = resolveSshHost(blocks, alias);
  const home = os.homedir();
  const identities = cfg.identityFiles.length ? cfg.identityFiles : DEFAULT_IDENTITIES.map((f) => path.join(home, '.ssh', f));
  const knownHostsFiles = settings.knownHostsFiles ?? [
    ...(cfg.userKnownHostsFiles ?? [path.join(home, '.ssh', 'known_hosts'), path.join(home, '.ssh', 'known_hosts2')]),
    '/etc/ssh/ssh_known_hosts',
    '/etc/ssh/ssh_known_hosts2',
  ];
  const common = {
    ...settings,
    knownHostsFiles,
    hostKeyChecking: settings.hostKeyChecking ?? cfg.strictHostKeyChecking ?? 'yes',
    connectTimeoutMs: settings.connectTimeoutMs ?? (cfg.connectTimeoutSeconds ? cfg.connectTimeoutSeconds * 1000 : undefined),
    keepaliveIntervalMs: settings.keepaliveIntervalMs ?? (cfg.serverAliveIntervalSeconds ? cfg.serverAliveIntervalSeconds * 1000 : undefined),
    keepaliveCountMax: settings.keepaliveCountMax ?? cfg.serverAliveCountMax,
  };
  let proxyJump: SshOptions | undefined;
  for (const hop of cfg.proxyJump ?? []) {
    // Jump hosts share the host key policy but not secrets meant for the target.
    const hopSettings = { knownHostsFiles, hostKeyChecking: common.hostKeyChecking, agent: settings.agent };
    const options = sshOptionsFor(blocks, { name: hop.host, host: hop.host, port: hop.port, user: hop.user }, hopSettings, depth + 1);
    proxyJump = proxyJump ? { ...options, proxyJump } : options;
  }
  return {
    ...common,
    name: conn.name,
    host: cfg.hostName,
    port: conn.port ?? cfg.port ?? 22,
    user: conn.user ?? cfg.user ?? safeUserName(),
    privateKeyPath: conn.privateKeyPath ?? identities.find((f) => existsSync(f)),
    proxyJump,
  };
}
