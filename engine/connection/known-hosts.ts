// OpenSSH known_hosts files: plain and hashed (|1|salt|hash) host patterns, negation,
// wildcards, the [host]:port form, and the @revoked / @cert-authority markers.
import { createHash, createHmac } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface KnownHostEntry {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** Comma-separated patterns, or a hashed name. */
  hosts: { hashed: { salt: Buffer; hash: Buffer } } | { patterns: string[] };
  keyType: string;
  /** The key blob in SSH wire format. */
  key: Buffer;
}

export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'unknown'; otherTypes: KnownHostEntry[] }
  | { status: 'changed'; entry: KnownHostEntry }
  | { status: 'revoked'; entry: KnownHostEntry };

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
function hostLookupName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** The key type named inside an SSH wire-format key blob ("ssh-ed25519", ...). */
function keyTypeOf(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH's fingerprint: SHA256:<base64 without padding>. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** OpenSSH's short key names in messages: ED25519, RSA, ECDSA, DSA. */
function keyTypeLabel(keyType: string): string {
  if (keyType.includes('ed25519')) return 'ED25519';
  if (keyType.includes('ecdsa')) return 'ECDSA';
  if (keyType.includes('rsa')) return 'RSA';
  if (keyType.includes('dss')) return 'DSA';
  return keyType.toUpperCase();
}

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const entry = parseLine(raw, file, index + 1);
    if (entry) entries.push(entry);
  });
  return entries;
}

function parseLine(raw: string, file: string, line: number): KnownHostEntry | null {
  const text = raw.trim();
  if (!text || text.startsWith('#')) return null;
  const fields = text.split(/\s+/);
  let marker: KnownHostEntry['marker'];
  if (fields[0].startsWith('@')) {
    const m = fields.shift()!;
    if (m === '@revoked') marker = 'revoked';
    else if (m === '@cert-authority') marker = 'cert-authority';
    else return null;
  }
  const [hostField, keyType, keyText] = fields;
  if (!hostField || !keyType || !keyText) return null;
  const key = Buffer.from(keyText, 'base64');
  if (key.length < 4) return null;
  const hosts = parseHostField(hostField);
  if (!hosts) return null;
  return { file, line, marker, hosts, keyType, key };
}

function parseHostField(field: string): KnownHostEntry['hosts'] | null {
  if (!field.startsWith('|1|')) return { patterns: field.split(',').filter(Boolean) };
  const [, , salt, hash] = field.split('|');
  if (!salt || !hash) return null;
  return { hashed: { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') } };
}

/** Matches one name against an entry's hosts, as OpenSSH's match_hostname does. */
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  if ('hashed' in entry.hosts) {
    const { salt, hash } = entry.hosts.hashed;
    return createHmac('sha1', salt).update(name).digest().equals(hash);
  }
  let matched = false;
  for (const pattern of entry.hosts.patterns) {
    const negated = pattern.startsWith('!');
    if (!wildcardMatch(name, (negated ? pattern.slice(1) : pattern).toLowerCase())) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** `*` and `?` wildcards, nothing else (OpenSSH's match_pattern). */
export function wildcardMatch(text: string, pattern: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(text);
}

export async function readKnownHosts(files: string[]): Promise<KnownHostEntry[]> {
  const all: KnownHostEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    all.push(...parseKnownHosts(text, file));
  }
  return all;
}

/** Decides what a presented host key means for `host:port`, given the entries of the known_hosts files. */
export function verifyHostKey(entries: KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = hostLookupName(host, port);
  const keyType = keyTypeOf(key);
  const forHost = entries.filter((e) => e.marker !== 'cert-authority' && entryMatches(e, name));
  const revoked = forHost.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const plain = forHost.filter((e) => e.marker === undefined);
  const known = plain.find((e) => e.key.equals(key));
  if (known) return { status: 'known', entry: known };
  const sameType = plain.find((e) => keyTypeOf(e.key) === keyType);
  if (sameType) return { status: 'changed', entry: sameType };
  return { status: 'unknown', otherTypes: plain };
}

/** The key types known for a host, so that key exchange can prefer them as OpenSSH does. */
export function knownKeyTypes(entries: KnownHostEntry[], host: string, port: number): string[] {
  const name = hostLookupName(host, port);
  const types = entries.filter((e) => e.marker === undefined && entryMatches(e, name)).map((e) => keyTypeOf(e.key));
  return [...new Set(types)];
}

/** The known_hosts line OpenSSH would add for this host and key. */
export function knownHostsLine(host: string, port: number, key: Buffer): string {
  return `${hostLookupName(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}`;
}

/** Appends a host key (accept-new), creating the file and its directory when needed. */
export async function appendKnownHost(file: string, host: string, port: number, key: Buffer): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const current = await fs.readFile(file, 'utf8');
    if (current.length > 0 && !current.endsWith('\n')) prefix = '\n';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await fs.appendFile(file, `${prefix}${knownHostsLine(host, port, key)}\n`, { mode: 0o600 });
}

/** OpenSSH's warning for a changed host key, naming the key, the fingerprint and the offending line. */
export function changedKeyMessage(host: string, port: number, key: Buffer, offending: KnownHostEntry): string {
  const label = keyTypeLabel(keyTypeOf(key));
  return [
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!',
    'Someone could be eavesdropping on you right now (man-in-the-middle attack)!',
    'It is also possible that a host key has just been changed.',
    `The fingerprint for the ${label} key sent by the remote host is`,
    `${fingerprintOf(key)}.`,
    `Add correct host key in ${offending.file} to get rid of this message.`,
    `Offending ${keyTypeLabel(offending.keyType)} key in ${offending.file}:${offending.line}`,
    `Host key for ${hostLookupName(host, port)} has changed and you have requested strict checking.`,
    'Host key verification failed.',
  ].join('\n');
}

export function revokedKeyMessage(host: string, port: number, key: Buffer, entry: KnownHostEntry): string {
  return [
    `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@`,
    `@       WARNING: REVOKED HOST KEY DETECTED!               @`,
    `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@`,
    `The ${keyTypeLabel(keyTypeOf(key))} host key for ${hostLookupName(host, port)} is marked as revoked`,
    `(${entry.file}:${entry.line}). Its fingerprint is ${fingerprintOf(key)}.`,
    'Host key verification failed.',
  ].join('\n');
}

export function unknownKeyMessage(host: string, port: number, key: Buffer, files: string[], otherTypes: KnownHostEntry[]): string {
  const lines = [`No ${keyTypeLabel(keyTypeOf(key))} host key is known for ${hostLookupName(host, port)} and you have requested strict checking.`, `The key's fingerprint is ${fingerprintOf(key)}.`];
  for (const other of otherTypes) {
    lines.push(`A ${keyTypeLabel(other.keyType)} key is known for this host in ${other.file}:${other.line}.`);
  }
  lines.push(
    `Looked in: ${files.join(', ') || '(no known_hosts files)'}.`,
    `Add the key with: ssh-keyscan -p ${port} ${host} >> ${files[0] ?? '~/.ssh/known_hosts'}  (after checking the fingerprint),`,
    'or connect once with host_key_checking: accept-new.',
    'Host key verification failed.',
  );
  return lines.join('\n');
}
