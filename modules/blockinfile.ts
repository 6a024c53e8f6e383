// blockinfile: ensures a block of lines between two marker lines in a text file.
// The edit follows Ansible's lib/ansible/modules/blockinfile.py main() step by step, so
// the bytes plinth writes are the bytes Ansible writes for the same arguments.
import { ModuleError, type ArgsOf, type Module } from '../engine/types.js';
import { attributeProperties } from './support/attributes.js';
import { applyManagedFile, observeManagedFile, planManagedFile, type ManagedFile, type ManagedFileAction } from './support/managed-file.js';
import { compilePythonRegex } from './support/python-regex.js';
import { decodeText, splitLinesKeepEnds } from './support/text.js';

type BlockInFileArgs = ArgsOf<typeof schema>;

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  not: { required: ['insertafter', 'insertbefore'] },
  'x-message': 'insertafter and insertbefore are mutually exclusive',
  properties: {
    path: { type: 'string', minLength: 1, 'x-aliases': ['dest', 'destfile', 'name'], description: 'absolute path of the file on the host' },
    block: { type: 'string', default: '', description: 'the lines between the markers; empty removes the block' },
    marker: {
      type: 'string',
      default: '# {mark} ANSIBLE MANAGED BLOCK',
      description: 'marker line template; {mark} becomes marker_begin or marker_end',
    },
    marker_begin: { type: 'string', default: 'BEGIN', description: 'replaces {mark} in the first marker' },
    marker_end: { type: 'string', default: 'END', description: 'replaces {mark} in the last marker' },
    state: { type: 'string', enum: ['present', 'absent'], default: 'present', description: 'whether the block should be there' },
    insertafter: { type: 'string', description: 'EOF or a regular expression: a new block goes after the last matching line' },
    insertbefore: { type: 'string', description: 'BOF or a regular expression: a new block goes before the last matching line' },
    create: { type: 'boolean', default: false, description: 'create the file when it is missing' },
    backup: { type: 'boolean', default: false, description: 'keep a timestamped copy of the old file beside it' },
    append_newline: { type: 'boolean', default: false, description: 'add a blank line after the block unless one is there' },
    prepend_newline: { type: 'boolean', default: false, description: 'add a blank line before the block unless one is there' },
    ...attributeProperties,
  },
} as const;

interface BlockEdit {
  text: string;
  msg: string;
}

/** Ansible's blockinfile edit of `original` (null: the file does not exist). */
function editBlock(original: string | null, args: BlockInFileArgs): BlockEdit {
  const lines = original === null ? [] : splitLinesKeepEnds(original);
  const present = args.state !== 'absent';
  const insertbefore = args.insertbefore;
  const insertafter = insertbefore === undefined && args.insertafter === undefined ? 'EOF' : args.insertafter;
  const insertPattern = insertafter !== undefined && insertafter !== 'EOF' ? insertafter : insertbefore !== undefined && insertbefore !== 'BOF' ? insertbefore : undefined;
  const inserter = insertPattern !== undefined ? compilePythonRegex(insertPattern, 'insertafter/insertbefore') : undefined;

  const marker0 = args.marker.split('{mark}').join(args.marker_begin) + '\n';
  const marker1 = args.marker.split('{mark}').join(args.marker_end) + '\n';
  let blockLines: string[] = [];
  if (present && args.block) {
    const block = args.block.endsWith('\n') ? args.block : args.block + '\n';
    blockLines = [marker0, ...splitLinesKeepEnds(block), marker1];
  }

  let n0: number | null = null;
  let n1: number | null = null;
  lines.forEach((l, i) => {
    if (l === marker0) n0 = i;
    if (l === marker1) n1 = i;
  });

  let at: number;
  if (n0 === null || n1 === null) {
    let found: number | null = null;
    if (inserter) {
      if (inserter.multiline) {
        const m = original === null ? null : inserter.regex.exec(original);
        if (m) found = countNewlines(original as string, insertafter !== undefined ? m.index + m[0].length : m.index);
      } else {
        lines.forEach((l, i) => {
          if (inserter.regex.test(l)) found = i;
        });
      }
      if (found === null) at = lines.length;
      else at = insertafter !== undefined ? Math.min(found + 1, lines.length) : found;
    } else if (insertbefore !== undefined) {
      at = 0;
    } else {
      at = lines.length;
    }
  } else if (n0 < n1) {
    lines.splice(n0, n1 - n0 + 1);
    at = n0;
  } else {
    lines.splice(n1, n0 - n1 + 1);
    at = n1;
  }

  if (at > 0 && !lines[at - 1].endsWith('\n')) lines[at - 1] += '\n';
  if (args.prepend_newline && present && at !== 0 && lines[at - 1] !== '\n') {
    lines.splice(at, 0, '\n');
    at++;
  }
  lines.splice(at, 0, ...blockLines);
  if (args.append_newline && present) {
    const after = at + blockLines.length;
    if (after < lines.length && lines[after] !== '\n') lines.splice(after, 0, '\n');
  }

  const text = lines.join('');
  const msg = original === text ? '' : original === null ? 'File created' : blockLines.length === 0 ? 'Block removed' : 'Block inserted';
  return { text, msg };
}

function countNewlines(text: string, end: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

export const blockinfile: Module<typeof schema, ManagedFile, ManagedFileAction> = {
  name: 'blockinfile',
  description: 'Insert, update or remove a block of lines between marker lines',
  schema,

  async observe(ctx, args) {
    const file = await observeManagedFile(ctx, args.path, { mode: args.mode, owner: args.owner, group: args.group });
    if (file.stat?.type === 'directory') throw new ModuleError(`blockinfile: ${args.path} is a directory`);
    if (!file.stat && !args.create && args.state !== 'absent') {
      throw new ModuleError(`blockinfile: ${args.path} does not exist (set create: true to create it)`);
    }
    return file;
  },

  plan(file, args) {
    if (!file.stat && args.state === 'absent') return { changed: false, summary: 'file not present', result: { msg: `File ${args.path} not present` } };
    const original = file.content ? decodeText(file.content, file.path) : null;
    const edit = editBlock(original, args);
    const desired = edit.msg ? Buffer.from(edit.text, 'utf8') : null;
    return planManagedFile(file, desired, { backup: args.backup, makeParents: args.create, result: { msg: edit.msg } });
  },

  apply: (ctx, action) => applyManagedFile(ctx, action),
};
