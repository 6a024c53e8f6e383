// A fingerprint of what a module observed: the state a plan was made from. Apply compares it
// with a fresh observation to refuse a stale plan. Times that change without anyone changing
// the host (mtime of a file written with the same bytes, a check-mode prediction's clock) are
// left out; secrets are only ever hashed.
import { createHash, createHmac } from 'node:crypto';
import { stringify } from 'yaml';

// cacheAge: apt's package lists age by the second; whether they are fresh enough is decided
// again at apply time, and an older cache is not a change to the host anyone made.
const VOLATILE = /^(mtime|atime|ctime|mtimeMs|timestamp|durationMs|cacheAge)$|Timestamp$/;

/**
 * With a salt (a plan's own random key), an HMAC: a value that came from -e (a password) cannot be
 * found from the plan by hashing guesses.
 */
export function fingerprintOf(observed: unknown, salt?: string): string {
  const hash = salt === undefined ? createHash('sha256') : createHmac('sha256', salt);
  return hash.update(stableJson(observed)).digest('hex').slice(0, 32);
}

function stableJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Buffer.isBuffer(value)) return JSON.stringify(`sha256:${createHash('sha256').update(value).digest('hex')}`);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  return `{${stableEntries(value as Record<string, unknown>)
    .map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`)
    .join(',')}}`;
}

function stableEntries(value: Record<string, unknown>): [string, unknown][] {
  return Object.entries(value)
    .filter(([k, v]) => !VOLATILE.test(k) && v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The same observation as text a person can diff: keys sorted, file contents as their lines,
 * the volatile fields left out as in the fingerprint. Not redacted: the caller redacts.
 */
export function observationText(observed: unknown): string {
  return stringify(readable(observed) ?? null, { lineWidth: 0, blockQuote: 'literal' });
}

function readable(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value)) {
    return value.includes(0) ? `(${value.length} bytes, sha256 ${createHash('sha256').update(value).digest('hex').slice(0, 12)})` : value.toString('utf8');
  }
  if (Array.isArray(value)) return value.map(readable);
  return Object.fromEntries(stableEntries(value as Record<string, unknown>).map(([k, v]) => [k, readable(v)]));
}
