// Host patterns as in Ansible: `web:db` union, `web:&eu` intersection, `all:!db` exclusion,
// globs (`pg-*`), regular expressions (`~pg-replica-\d+`), group and host names, and subscripts
// of what a term selects (`replicas[0]`, `replicas[-1]`, `replicas[1:3]` inclusive, `replicas[1:]`).
import type { Inventory } from '../load/inventory.js';
import { UserError } from '../user-error.js';

export class PatternError extends UserError {}

export function selectHosts(inv: Inventory, pattern: string): string[] {
  const terms = splitPattern(pattern);
  if (terms.length === 0) throw new PatternError(`empty host pattern '${pattern}'`);
  const union = new Set<string>();
  const intersections: Set<string>[] = [];
  const exclusions = new Set<string>();
  for (const term of terms) {
    if (term.startsWith('!')) for (const h of matchTerm(inv, term.slice(1))) exclusions.add(h);
    else if (term.startsWith('&')) intersections.push(new Set(matchTerm(inv, term.slice(1))));
    else for (const h of matchTerm(inv, term)) union.add(h);
  }
  // A pattern of only intersections/exclusions starts from every host.
  const base = union.size === 0 && terms.every((t) => /^[!&]/.test(t)) ? new Set(inv.hosts.keys()) : union;
  const selected = [...inv.hosts.keys()].filter((h) => base.has(h) && intersections.every((s) => s.has(h)) && !exclusions.has(h));
  // As in Ansible, `localhost` named explicitly is this machine even when the inventory lacks it.
  const implicit = union.has(IMPLICIT_LOCALHOST) && !inv.hosts.has(IMPLICIT_LOCALHOST);
  if (implicit && intersections.every((s) => s.has(IMPLICIT_LOCALHOST)) && !exclusions.has(IMPLICIT_LOCALHOST)) selected.push(IMPLICIT_LOCALHOST);
  return selected;
}

const IMPLICIT_LOCALHOST = 'localhost';

/**
 * Terms are separated by commas, or else by colons outside brackets (so `g[1:3]` stays one term),
 * as Ansible splits them.
 */
export function splitPattern(pattern: string): string[] {
  let terms: string[];
  if (pattern.includes(',')) terms = pattern.split(',');
  else if (!pattern.includes(':')) terms = [pattern];
  else terms = pattern.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
  return terms.map((t) => t.trim()).filter(Boolean);
}

const SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)[:-]([0-9]*))\]$/;

/** A term with an optional subscript: the hosts it names, then the ones the subscript picks. */
function matchTerm(inv: Inventory, term: string): string[] {
  const m = term.startsWith('~') ? null : SUBSCRIPT.exec(term);
  if (!m) return matchName(inv, term);
  const hosts = matchName(inv, m[1]);
  if (m[2] !== undefined) {
    const i = Number(m[2]);
    const host = hosts[i < 0 ? hosts.length + i : i];
    return host === undefined ? [] : [host];
  }
  const start = Number(m[3]);
  const end = m[4] === '' ? hosts.length - 1 : Number(m[4]);
  return hosts.slice(start, end + 1);
}

function matchName(inv: Inventory, term: string): string[] {
  if (term === IMPLICIT_LOCALHOST && !inv.hosts.has(term)) return [term];
  if (term === 'all' || term === '*') return [...inv.hosts.keys()];
  if (inv.groups.has(term)) return inv.hostsOf(term);
  if (inv.hosts.has(term)) return [term];
  let re: RegExp | null = null;
  if (term.startsWith('~')) re = regExp(term.slice(1));
  else if (/[*?[]/.test(term)) re = globToRegExp(term);
  if (!re) return [];
  const out = new Set<string>();
  for (const g of inv.groups.keys()) if (re.test(g)) for (const h of inv.hostsOf(g)) out.add(h);
  for (const h of inv.hosts.keys()) if (re.test(h)) out.add(h);
  return [...out];
}

/** fnmatch, as Ansible uses it: `*`, `?`, `[seq]`, `[!seq]`; a `[` that opens no valid class is itself. */
function globToRegExp(glob: string): RegExp {
  let body = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    const cls = c === '[' ? charClass(glob, i) : null;
    if (c === '*') body += '.*';
    else if (c === '?') body += '.';
    else if (cls) {
      body += cls.source;
      i = cls.end;
    } else body += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${body}$`);
}

/** The class starting at `[` (its regular expression and the index of its `]`), or null. */
function charClass(glob: string, start: number): { source: string; end: number } | null {
  let i = start + 1;
  const negated = glob[i] === '!';
  if (negated) i++;
  // As in fnmatch, a `]` right after the opening is part of the class.
  const end = glob.indexOf(']', glob[i] === ']' ? i + 1 : i);
  if (end < 0) return null;
  const members = glob.slice(i, end).replace(/[\\\]^[]/g, '\\$&');
  const source = `[${negated ? '^' : ''}${members}]`;
  try {
    new RegExp(source);
  } catch {
    return null; // e.g. a range written backwards, [z-a]
  }
  return { source, end };
}

function regExp(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (e) {
    throw new PatternError(`invalid regular expression in host pattern '~${source}': ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
}
