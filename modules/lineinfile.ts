// lineinfile: ensures one line is present in (or absent from) a text file.
// The edit follows Ansible's lib/ansible/modules/lineinfile.py (present() and absent())
// step by step, so that a file plinth edits is one Ansible leaves unchanged, and back.
import { ModuleError, type ArgsOf, type Module } from '../engine/types.js';
import { attributeProperties } from './support/attributes.js';
import { applyManagedFile, observeManagedFile, planManagedFile, type ManagedFile, type ManagedFileAction } from './support/managed-file.js';
import { compilePythonRegex, expandTemplate } from './support/python-regex.js';
import { decodeText, readLines } from './support/text.js';

type LineInFileArgs = ArgsOf<typeof schema>;

const ABSENT = { required: ['state'], properties: { state: { const: 'absent' } } } as const;

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  allOf: [
    { not: { required: ['insertafter', 'insertbefore'] }, 'x-message': 'insertafter and insertbefore are mutually exclusive' },
    { not: { required: ['regexp', 'search_string'] }, 'x-message': 'regexp and search_string are mutually exclusive' },
    { not: { required: ['backrefs', 'search_string'], properties: { backrefs: { const: true } } }, 'x-message': 'backrefs needs regexp, not search_string' },
    { anyOf: [ABSENT, { required: ['line'] }], 'x-message': 'line is required with state: present' },
    {
      not: { required: ['backrefs'], properties: { backrefs: { const: true } }, not: { anyOf: [ABSENT, { required: ['regexp'] }] } },
      'x-message': 'regexp is required with backrefs: true',
    },
    {
      anyOf: [{ not: ABSENT }, { required: ['line'] }, { required: ['regexp'] }, { required: ['search_string'] }],
      'x-message': 'one of line, search_string or regexp is required with state: absent',
    },
  ],
  properties: {
    path: { type: 'string', minLength: 1, 'x-aliases': ['dest', 'destfile', 'name'], description: 'absolute path of the file on the host' },
    line: { type: 'string', description: 'the line to have in the file (required with state: present)' },
    regexp: { type: 'string', description: 'Python regular expression: the last matching line is replaced (or removed with state: absent)' },
    search_string: { type: 'string', description: 'literal text: the last line containing it is replaced (or removed)' },
    state: { type: 'string', enum: ['present', 'absent'], default: 'present', description: 'whether the line should be there' },
    insertafter: { type: 'string', description: 'EOF, BOF or a regular expression: where a new line goes (after the last match)' },
    insertbefore: { type: 'string', description: 'BOF or a regular expression: where a new line goes (before the last match)' },
    create: { type: 'boolean', default: false, description: 'create the file when it is missing' },
    backrefs: { type: 'boolean', default: false, description: 'line may use \\1 or \\g<name> from regexp; nothing is added when regexp does not match' },
    firstmatch: { type: 'boolean', default: false, description: 'use the first match of regexp/insertafter/insertbefore instead of the last' },
    backup: { type: 'boolean', default: false, description: 'keep a timestamped copy of the old file beside it' },
    ...attributeProperties,
  },
} as const;

interface LineEdit {
  lines: string[];
  changed: boolean;
  msg: string;
  found?: number;
}

/** Ansible's present(): the file's lines after ensuring `line`. */
function ensureLinePresent(original: string[], args: LineInFileArgs): LineEdit {
  const lines = [...original];
  const line = args.line as string;
  const insertbefore = args.insertbefore;
  const insertafter = insertbefore === undefined && args.insertafter === undefined ? 'EOF' : args.insertafter;
  const matcher = args.regexp !== undefined ? compilePythonRegex(args.regexp, 'regexp').regex : undefined;
  const insertPattern = insertafter !== undefined && insertafter !== 'BOF' && insertafter !== 'EOF' ? insertafter : insertbefore !== undefined && insertbefore !== 'BOF' ? insertbefore : undefined;
  const inserter = insertPattern !== undefined ? compilePythonRegex(insertPattern, 'insertafter/insertbefore').regex : undefined;

  let found = -1;
  let insertAt = -1;
  let match: RegExpExecArray | null = null;
  let matched = false;
  if (matcher) {
    for (let i = 0; i < lines.length; i++) {
      const m = matcher.exec(lines[i]);
      if (m) {
        found = i;
        match = m;
        matched = true;
        if (args.firstmatch) break;
      }
    }
  }
  if (args.search_string !== undefined) {
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].includes(args.search_string)) {
        found = i;
        matched = true;
        if (args.firstmatch) break;
      }
    }
  }
  if (!matched) {
    for (let i = 0; i < lines.length; i++) {
      if (line === stripLineEnd(lines[i])) {
        found = i;
      } else if (inserter?.test(lines[i])) {
        if (insertafter) insertAt = i + 1;
        if (insertbefore) insertAt = i;
        if (args.firstmatch) break;
      }
    }
  }

  const added = (at: number): LineEdit => {
    lines.splice(at, 0, line + '\n');
    return { lines, changed: true, msg: 'line added' };
  };
  const unchanged: LineEdit = { lines, changed: false, msg: '' };

  if (found !== -1) {
    let newLine = args.backrefs && match ? expandTemplate(line, match) : line;
    if (!newLine.endsWith('\n')) newLine += '\n';
    if (lines[found] === newLine) return unchanged;
    lines[found] = newLine;
    return { lines, changed: true, msg: 'line replaced' };
  }
  if (args.backrefs) return unchanged;
  if (insertbefore === 'BOF' || insertafter === 'BOF') return added(0);
  if (insertafter === 'EOF' || insertAt === -1) {
    ensureFinalNewline(lines);
    return added(lines.length);
  }
  if (insertafter) {
    if (insertAt === lines.length) {
      if (stripLineEnd(lines[insertAt - 1]) === line) return unchanged;
      // Ansible appends here without checking the last line's newline, which would glue
      // the two lines together; plinth adds the missing newline first.
      ensureFinalNewline(lines);
      return added(lines.length);
    }
    if (stripLineEnd(lines[insertAt]) === line) return unchanged;
    return added(insertAt);
  }
  return added(insertAt);
}

/** Ansible's absent(): every line matching regexp, search_string or equal to line goes. */
function ensureLineAbsent(original: string[], args: LineInFileArgs): LineEdit {
  const matcher = args.regexp !== undefined ? compilePythonRegex(args.regexp, 'regexp').regex : undefined;
  const matches = (l: string) => (matcher ? matcher.test(l) : args.search_string !== undefined ? l.includes(args.search_string) : stripLineEnd(l) === args.line);
  const lines = original.filter((l) => !matches(l));
  const found = original.length - lines.length;
  return { lines, changed: found > 0, msg: found ? `${found} line(s) removed` : '', found };
}

function stripLineEnd(l: string): string {
  return l.replace(/[\r\n]+$/, '');
}

function ensureFinalNewline(lines: string[]): void {
  const last = lines[lines.length - 1];
  if (last !== undefined && !/[\r\n]$/.test(last)) lines.push('\n');
}

export const lineinfile: Module<typeof schema, ManagedFile, ManagedFileAction> = {
  name: 'lineinfile',
  description: 'Ensure a line is present in or absent from a text file',
  schema,

  async observe(ctx, args) {
    const file = await observeManagedFile(ctx, args.path, { mode: args.mode, owner: args.owner, group: args.group });
    if (file.stat?.type === 'directory') throw new ModuleError(`lineinfile: ${args.path} is a directory`);
    if (!file.stat && args.state !== 'absent' && !args.create) {
      throw new ModuleError(`lineinfile: ${args.path} does not exist (set create: true to create it)`);
    }
    return file;
  },

  plan(file, args) {
    if (!file.stat && args.state === 'absent') return { changed: false, summary: 'file not present', result: { msg: 'file not present' } };
    const lines = file.content ? readLines(decodeText(file.content, file.path)) : [];
    const edit = args.state !== 'absent' ? ensureLinePresent(lines, args) : ensureLineAbsent(lines, args);
    const result: Record<string, unknown> = { msg: edit.msg, ...(edit.found !== undefined ? { found: edit.found } : {}) };
    const desired = edit.changed ? Buffer.from(edit.lines.join(''), 'utf8') : null;
    return planManagedFile(file, desired, { backup: args.backup, makeParents: args.create, result });
  },

  apply: (ctx, action) => applyManagedFile(ctx, action),
};
