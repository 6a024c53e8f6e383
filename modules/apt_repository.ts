// apt_repository: one-line apt source ("deb [signed-by=/etc/apt/keyrings/pgdg.asc] URL suite
// components") in a file of /etc/apt/sources.list.d, present or absent (a file left with no line
// is removed, as Ansible does); the package lists are refreshed after a change. Keys are
// referenced with signed-by: plinth has no apt_key.
import * as path from 'node:path';
import type { ArgsOf, Module } from '../engine/types.js';
import { applyManagedFile, observeManagedFile, planManagedFile, type ManagedFile, type ManagedFileAction } from './support/managed-file.js';
import { modeSchema } from './support/attributes.js';
import { decodeText, readLines } from './support/text.js';
import { planSourceFileRemoval, removeSourceFile, updatePackageLists } from './support/apt-sources.js';

const SOURCES_D = '/etc/apt/sources.list.d';

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['repo'],
  properties: {
    repo: {
      type: 'string',
      pattern: '^(deb|deb-src)\\s+(\\[[^\\]]*\\]\\s+)?\\S+://\\S+\\s+\\S+',
      description: "a sources.list line: 'deb [signed-by=/etc/apt/keyrings/x.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main'",
    },
    state: { enum: ['present', 'absent'], default: 'present', description: 'whether the line should be there' },
    filename: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$', description: 'file name in /etc/apt/sources.list.d, without .list (default: from the URL, as Ansible names it)' },
    mode: modeSchema,
    update_cache: { type: 'boolean', default: true, description: 'run apt-get update after a change' },
  },
} as const;

/** One line as apt reads it: whitespace collapsed, so spelling does not count as a change. */
export function normalizeSourceLine(line: string): string {
  return line
    .replace(/#[^\n]*/, '')
    .trim()
    .split(/\s+/)
    .join(' ')
    .replace(/\[\s*/, '[')
    .replace(/\s*\]/, ']');
}

/** Ansible's default file name: the URL's host and path, with separators made underscores. */
export function sourceFileName(repo: string): string {
  const url = /\S+:\/\/(\S+)/.exec(repo.replace(/\[[^\]]*\]/, ''))?.[1] ?? 'repository';
  return url.replace(/\/+$/, '').replace(/[^A-Za-z0-9]+/g, '_');
}

type Action = (ManagedFileAction | { remove: string }) & { updateCache?: boolean };

export const apt_repository: Module<typeof schema, ManagedFile, Action> = {
  name: 'apt_repository',
  description: 'Add or remove an apt source line (signed-by keys, no apt_key)',
  schema,

  observe: (ctx, args) => observeManagedFile(ctx, sourcesFile(args), { mode: args.mode }),

  plan(file, args) {
    const wanted = normalizeSourceLine(args.repo);
    const lines = file.content ? readLines(decodeText(file.content, file.path)) : [];
    const kept = lines.filter((l) => normalizeSourceLine(l) !== wanted);
    const present = kept.length !== lines.length;
    let desired: Buffer | null = null;
    if (args.state === 'absent') desired = present ? Buffer.from(kept.join('')) : null;
    else if (!present) desired = Buffer.from(`${lines.join('')}${lines.length && !lines[lines.length - 1].endsWith('\n') ? '\n' : ''}${args.repo.trim()}\n`);
    if (args.state === 'absent' && !file.stat) return { changed: false, result: { repo: args.repo, state: 'absent' } };
    const update = args.update_cache;
    const result = { repo: args.repo, state: args.state, ...(args.state === 'absent' ? { sources_removed: [file.path] } : { sources_added: [file.path] }) };
    if (args.state === 'absent' && present && kept.every((l) => l.trim() === '')) {
      return planSourceFileRemoval(file, `remove ${file.path} (no source left)${update ? ', apt-get update' : ''}`, { remove: file.path, updateCache: update }, result);
    }
    const plan = planManagedFile(file, desired, { makeParents: true, result });
    if (!('action' in plan)) return plan;
    return { ...plan, summary: `${plan.summary}${update ? ', apt-get update' : ''}`, action: { ...plan.action, updateCache: update } };
  },

  async apply(ctx, action) {
    const r = 'remove' in action ? await removeSourceFile(ctx, action.remove).then(() => ({})) : await applyManagedFile(ctx, action);
    if (action.updateCache) await updatePackageLists(ctx);
    return r;
  },
};

function sourcesFile(args: ArgsOf<typeof schema>): string {
  return path.posix.join(SOURCES_D, `${args.filename ?? sourceFileName(args.repo)}.list`);
}
