// A fingerprint of what a module observed: the state a plan was made from. Apply compares it
// with a fresh observation to refuse a stale plan. Times that change without anyone changing
// the host (mtime of a file written with the same bytes, a check-mode prediction's clock) are
// left out; secrets are only ever hashed.
import { createHash } from 'node:crypto';

// cacheAge: apt's package lists age by the second; whether they are fresh enough is decided
// again at apply time, and an older cache is not a change to the host anyone made.
const VOLATILE = /^(mtime|atime|ctime|mtimeMs|timestamp|durationMs|cacheAge)$|Timestamp$/;

export function fingerprintOf(observed: unknown): string {
  return createHash('sha256').update(stableJson(observed)).digest('hex').slice(0, 32);
}

function stableJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Buffer.isBuffer(value)) return JSON.stringify(`sha256:${createHash('sha256').update(value).digest('hex')}`);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([k, v]) => !VOLATILE.test(k) && v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}
