// replace: every match of a regular expression in a file replaced (Python's re.subn with
// MULTILINE, as Ansible's replace does), optionally only between `after` and `before`.
// The file must exist; it is rewritten atomically, with a backup when asked.
import { ModuleError, type Module, type ArgsOf } from '../engine/types.js';
import { attributeProperties } from './support/attributes.js';
import { applyManagedFile, observeManagedFile, planManagedFile, type ManagedFile, type ManagedFileAction, validateProperty } from './support/managed-file.js';
import { compilePythonRegexWith, expandTemplate } from './support/python-regex.js';
import { decodeText } from './support/text.js';

type ReplaceArgs = ArgsOf<typeof schema>;

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['path', 'regexp'],
  properties: {
    path: { type: 'string', minLength: 1, description: 'file on the host (it must exist)' },
    regexp: { type: 'string', minLength: 1, description: 'Python regular expression, matched over the whole file with MULTILINE (^ and $ at each line)' },
    replace: { type: 'string', default: '', description: 'replacement; \\1 and \\g<name> refer to groups of regexp (empty: matches are removed)' },
    after: { type: 'string', minLength: 1, description: 'only replace after the first match of this expression' },
    before: { type: 'string', minLength: 1, description: 'only replace before the first match of this expression (after `after` when both are given)' },
    backup: { type: 'boolean', default: false, description: 'keep a timestamped copy of the old file beside it' },
    validate: validateProperty,
    ...attributeProperties,
  },
} as const;

interface Replacement {
  text: string;
  count: number;
  /** Set when after/before matched nothing (Ansible then changes nothing and says why). */
  sectionMissing?: string;
}

/** Ansible's replace: the section between after and before (DOTALL), then re.subn over it. */
export function replaceInText(contents: string, args: Pick<ReplaceArgs, 'regexp' | 'replace' | 'after' | 'before'>): Replacement {
  let start = 0;
  let end = contents.length;
  if (args.after !== undefined || args.before !== undefined) {
    const pattern =
      args.after !== undefined && args.before !== undefined
        ? `${args.after}(?P<subsection>.*?)${args.before}`
        : args.after !== undefined
          ? `${args.after}(?P<subsection>.*)`
          : `(?P<subsection>.*)${args.before}`;
    const section = compilePythonRegexWith(pattern, 's', 'after/before').regex;
    const m = new RegExp(section.source, section.flags + 'd').exec(contents);
    if (!m?.indices?.groups?.subsection) return { text: contents, count: 0, sectionMissing: pattern };
    [start, end] = m.indices.groups.subsection;
  }
  const regex = compilePythonRegexWith(args.regexp, 'm', 'regexp').regex;
  const global = new RegExp(regex.source, regex.flags + 'g');
  const section = contents.slice(start, end);
  let out = '';
  let last = 0;
  let count = 0;
  for (const m of section.matchAll(global)) {
    out += section.slice(last, m.index) + expandTemplate(args.replace, m as RegExpExecArray);
    last = m.index + m[0].length;
    count++;
  }
  out += section.slice(last);
  return { text: contents.slice(0, start) + out + contents.slice(end), count };
}

export const replace: Module<typeof schema, ManagedFile, ManagedFileAction> = {
  name: 'replace',
  description: 'Replace every match of a regular expression in a file',
  schema,

  async observe(ctx, args) {
    replaceInText('', args);
    const file = await observeManagedFile(ctx, args.path, { mode: args.mode, owner: args.owner, group: args.group });
    if (file.stat?.type === 'directory') throw new ModuleError(`replace: ${args.path} is a directory`);
    if (!file.stat) throw new ModuleError(`replace: path ${args.path} does not exist !`);
    return file;
  },

  plan(file, args) {
    const contents = decodeText(file.content ?? Buffer.from(''), file.path);
    const r = replaceInText(contents, args);
    const msg = r.sectionMissing ? `Pattern for before/after params did not match the given file: ${r.sectionMissing}` : r.count && r.text !== contents ? `${r.count} replacements made` : '';
    const desired = r.text !== contents ? Buffer.from(r.text, 'utf8') : null;
    return planManagedFile(file, desired, { backup: args.backup, validate: args.validate, result: { msg, rc: 0 } });
  },

  apply: (ctx, action) => applyManagedFile(ctx, action),
};
