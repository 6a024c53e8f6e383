// Ansible users write Python regular expressions (lineinfile's regexp, insertafter, backrefs).
// This translates the Python syntax JavaScript lacks, so that a pattern matches the same
// lines in plinth as in Ansible.
import { ModuleError } from '../../engine/types.js';

interface PythonRegex {
  regex: RegExp;
  /** The pattern set (?m): blockinfile then searches the whole file instead of line by line. */
  multiline: boolean;
}

export function compilePythonRegex(pattern: string, field: string): PythonRegex {
  let flags = '';
  let body = pattern;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(body);
  if (inline) {
    if (inline[1].includes('x')) throw new ModuleError(`${field}: the verbose flag (?x) is not supported: ${pattern}`);
    for (const f of ['i', 'm', 's']) if (inline[1].includes(f)) flags += f;
    body = body.slice(inline[0].length);
  }
  const multiline = flags.includes('m');
  try {
    return { regex: new RegExp(translate(body, multiline), flags), multiline };
  } catch (e) {
    throw new ModuleError(`${field} is not a valid regular expression: ${pattern} (${(e as Error).message})`);
  }
}

/** A pattern compiled with Python flags added (re.MULTILINE → 'm', re.DOTALL → 's'), merged with its own inline flags. */
export function compilePythonRegexWith(pattern: string, flags: string, field: string): PythonRegex {
  const inline = /^\(\?([aiLmsux]+)\)/.exec(pattern);
  const merged = [...new Set([...(inline?.[1] ?? ''), ...flags])].join('');
  return compilePythonRegex(`(?${merged})${inline ? pattern.slice(inline[0].length) : pattern}`, field);
}

function translate(pattern: string, multiline: boolean): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      i++;
      if (!inClass && next === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && next === 'Z') out += '(?![\\s\\S])';
      else out += c + next;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
      // A "]" right after "[" or "[^" is a literal in Python.
      if (pattern[i + 1] === '^') out += pattern[++i];
      if (pattern[i + 1] === ']') out += '\\' + pattern[++i];
    } else if (c === '$' && !multiline) {
      // Python's $ also matches before a newline that ends the string.
      out += '(?=\\n?(?![\\s\\S]))';
    } else if (pattern.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else if (pattern.startsWith('(?P=', i)) {
      const end = pattern.indexOf(')', i);
      out += `\\k<${pattern.slice(i + 4, end)}>`;
      i = end;
    } else {
      out += c;
    }
  }
  return out;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' };

/** Python's match.expand(template): \1, \g<1>, \g<name> and character escapes. */
export function expandTemplate(template: string, match: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '\\' || i + 1 >= template.length) {
      out += c;
      continue;
    }
    const rest = template.slice(i + 1);
    const named = /^g<([^>]*)>/.exec(rest);
    const numbered = /^\d{1,2}/.exec(rest);
    if (named) {
      out += group(match, named[1], template);
      i += named[0].length;
    } else if (numbered) {
      out += group(match, numbered[0], template);
      i += numbered[0].length;
    } else if (rest[0] in ESCAPES) {
      out += ESCAPES[rest[0]];
      i++;
    } else if (/[A-Za-z]/.test(rest[0])) {
      throw new ModuleError(`bad escape \\${rest[0]} in line: ${template}`);
    } else {
      out += c;
    }
  }
  return out;
}

function group(match: RegExpExecArray, ref: string, template: string): string {
  if (/^\d+$/.test(ref)) {
    const n = Number(ref);
    if (n >= match.length) throw new ModuleError(`invalid group reference ${n} in line: ${template}`);
    return match[n] ?? '';
  }
  if (!match.groups || !(ref in match.groups)) throw new ModuleError(`unknown group name '${ref}' in line: ${template}`);
  return match.groups[ref] ?? '';
}
