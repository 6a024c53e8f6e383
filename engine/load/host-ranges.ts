// Host names as inventories write them, expanded the way Ansible does: `web[01:10]` (leading
// zeros kept), `web[1:9:2]` (a step), `db-[a:f]` (letters), several ranges in one name, and a
// `:port` suffix (`web1:2222`, `[2001:db8::1]:2222`).

import { SourceError, type Where } from './yaml.js';
import { UserError } from '../user-error.js';

class HostRangeError extends UserError {}

export interface HostPattern {
  hosts: string[];
  /** The `:NN` suffix, for every host of the pattern. */
  port?: number;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

function expandHostPattern(pattern: string): HostPattern {
  const { name, port } = splitPort(pattern.trim());
  if (/:$/.test(pattern.trim()) && port === undefined) {
    throw new HostRangeError(`invalid host pattern '${pattern}': a trailing ':' must be followed by a port number`);
  }
  return { hosts: name.includes('[') ? expandRanges(name) : [name], port };
}

/** `name:port` and `[address]:port`; an IPv6 address without brackets has no port. */
function splitPort(pattern: string): { name: string; port?: number } {
  const bracketed = /^\[(.+)\]:([0-9]+)$/.exec(pattern);
  if (bracketed && !/^[0-9a-zA-Z]+:[0-9a-zA-Z]+(?::[0-9]+)?$/.test(bracketed[1])) return { name: bracketed[1], port: Number(bracketed[2]) };
  const plain = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/.exec(pattern);
  if (plain) return { name: plain[1], port: Number(plain[2]) };
  return { name: pattern };
}

/** Expands the first `[begin:end(:step)]` and then, recursively, the ones after it. */
function expandRanges(name: string): string[] {
  const open = name.indexOf('[');
  const close = name.indexOf(']', open);
  if (open < 0) return [name];
  if (close < 0) throw new HostRangeError(`host range in '${name}' has no closing ']'`);
  const head = name.slice(0, open);
  const tail = name.slice(close + 1);
  const bounds = name.slice(open + 1, close).split(':');
  if (bounds.length !== 2 && bounds.length !== 3) throw new HostRangeError(`host range in '${name}' must be begin:end or begin:end:step`);
  const [beginText, end, stepText = '1'] = bounds;
  const begin = beginText || '0';
  if (!end) throw new HostRangeError(`host range in '${name}' must give an end value`);
  const step = toInteger(stepText, name);
  if (step <= 0) throw new HostRangeError(`host range in '${name}' must have a positive step`);
  let items: string[];
  const alphabetic = LETTERS.indexOf(begin) >= 0 && begin.length === 1 && end.length === 1 && LETTERS.indexOf(end) >= 0;
  if (alphabetic) {
    const from = LETTERS.indexOf(begin);
    const to = LETTERS.indexOf(end);
    if (from > to) throw new HostRangeError(`host range in '${name}' must have begin <= end`);
    items = [];
    for (let i = from; i <= to; i += step) items.push(LETTERS[i]);
  } else {
    // A begin written with leading zeros sets the width of every number.
    const width = begin.length > 1 && begin[0] === '0' ? begin.length : 0;
    if (width && width !== end.length) throw new HostRangeError(`host range in '${name}' must have begin and end of the same width when zero-padded`);
    const from = toInteger(begin, name);
    const to = toInteger(end, name);
    items = [];
    for (let i = from; i <= to; i += step) items.push(String(i).padStart(width, '0'));
  }
  return items.flatMap((item) => expandRanges(`${head}${item}${tail}`));
}

function toInteger(text: string, name: string): number {
  if (!/^[0-9]+$/.test(text.trim())) throw new HostRangeError(`host range in '${name}': '${text}' is not a number or a single letter`);
  return Number(text);
}

/** expandHostPattern, with a problem reported at the place the pattern was written. */
export function hostPatternAt(pattern: string, where: Where): HostPattern {
  try {
    return expandHostPattern(pattern);
  } catch (e) {
    if (e instanceof HostRangeError) throw new SourceError(e.message, where);
    throw e;
  }
}
