// synchronize: ansible.posix.synchronize's common use, a controller directory pushed to the host
// (src ending in '/' copies its contents, else the directory itself), with `delete` removing what
// the source does not have. plinth needs no rsync: the host's tree is listed with checksums in
// one command and each file is replaced atomically (see support/file-tree.ts). Files compare by
// checksum always, so `checksum` changes nothing and `times` are not carried. Symbolic links are
// kept as links (links, as archive implies), followed (copy_links) or left out, as rsync does.
import * as path from 'node:path';
import { ModuleError, type Module } from '../engine/types.js';
import { findControllerPath, readControllerTree } from './support/controller-files.js';
import { applyTree, observeTree, planTree, type TreeAction, type TreeObserved } from './support/file-tree.js';

const ignoredFlag = (what: string) => ({ type: 'boolean', description: `accepted for Ansible playbooks; ${what}` }) as const;

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['src', 'dest'],
  properties: {
    src: { type: 'string', minLength: 1, description: "directory on the controller (files/<src>, then <src>); ending in '/' copies its contents, else the directory itself" },
    dest: { type: 'string', pattern: '^/', description: 'directory on the host (created when missing)' },
    mode: { enum: ['push', 'pull'], default: 'push', description: 'push only (pull: use fetch)' },
    delete: { type: 'boolean', default: false, description: 'remove files in dest that src does not have (excluded ones stay)' },
    archive: { type: 'boolean', default: true, description: 'recursive, perms and links (owner, group and times are not carried, see below)' },
    recursive: { type: 'boolean', description: 'descend into directories (default: archive); false copies the files at the top only' },
    perms: { type: 'boolean', description: "give files and directories src's permission bits (default: archive)" },
    checksum: ignoredFlag('plinth always compares contents by sha256'),
    times: ignoredFlag('modification times are not carried (contents compare by checksum)'),
    links: { type: 'boolean', description: 'symbolic links in src are made as links on the host (default: archive)' },
    copy_links: { type: 'boolean', default: false, description: 'symbolic links in src are copied as the files they point to (wins over links)' },
    owner: ignoredFlag("the controller's user ids are not carried: set owners with file afterwards"),
    group: ignoredFlag("the controller's group ids are not carried: set groups with file afterwards"),
    compress: { type: 'boolean', default: true, description: 'accepted; ssh carries the files' },
    rsync_opts: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description: "of rsync's options: --exclude=PATTERN (rsync's pattern rules), --delete-excluded, and the output options -v, -q, --quiet, --verbose, --no-motd, --itemize-changes",
    },
  },
} as const;

export const synchronize: Module<typeof schema, TreeObserved, TreeAction> = {
  name: 'synchronize',
  description: 'Make a directory on the host hold a controller directory (ansible.posix.synchronize without rsync)',
  schema,

  async observe(ctx, args) {
    if (args.mode === 'pull') throw new ModuleError('synchronize: mode pull is not supported (fetch copies files from the host to the controller)');
    const opts = rsyncOptions(args.rsync_opts);
    const found = await findControllerPath(ctx, 'files', args.src);
    if (!found.directory) throw new ModuleError(`synchronize: src ${found.path} is a file; use copy for a single file`);
    const recursive = args.recursive ?? args.archive;
    const perms = args.perms ?? args.archive;
    const links = args.copy_links ? 'follow' : (args.links ?? args.archive) ? 'keep' : 'skip';
    const tree = await readControllerTree(ctx, found.path, (rel, directory) => (directory && !recursive) || opts.exclude(rel, directory), links);
    const wanted = tree.map((e) =>
      e.type === 'link' ? { path: e.path, type: e.type, target: e.target } : { path: e.path, type: e.type, ...(e.content ? { content: e.content } : {}), ...(perms ? { mode: e.mode } : {}) },
    );
    const contents = args.src.endsWith('/');
    const dest = contents ? args.dest.replace(/(.)\/+$/, '$1') : path.posix.join(args.dest, path.basename(found.path));
    return observeTree(ctx, {
      dest,
      source: ctx.controllerFiles.display(found.path) + (contents ? '/' : ''),
      wanted,
      delete: args.delete,
      exclude: opts.deleteExcluded ? undefined : opts.exclude,
    });
  },

  plan: (observed, args) => planTree(observed, { delete: args.delete, replace: true }, { src: observed.source }),

  apply: (ctx, action) => applyTree(ctx, action),
};

const OUTPUT_OPTIONS = new Set(['-v', '-q', '--quiet', '--verbose', '--no-motd', '--itemize-changes', '-i']);

/** The rsync options plinth can honour; any other is refused by name. */
function rsyncOptions(list: string[]): { exclude: (rel: string, directory: boolean) => boolean; deleteExcluded: boolean } {
  const patterns: ((rel: string, directory: boolean) => boolean)[] = [];
  let deleteExcluded = false;
  for (const opt of list) {
    const exclude = /^--exclude=(.+)$/.exec(opt);
    if (exclude) patterns.push(rsyncPattern(exclude[1]));
    else if (opt === '--delete-excluded') deleteExcluded = true;
    else if (!OUTPUT_OPTIONS.has(opt)) throw new ModuleError(`synchronize: rsync_opts ${opt} is not supported (plinth supports --exclude=PATTERN, --delete-excluded and output options)`);
  }
  return { exclude: (rel, directory) => patterns.some((p) => p(rel, directory)), deleteExcluded };
}

/**
 * rsync's pattern rules: a leading '/' anchors at the top of the transfer, a trailing '/' matches
 * directories only, a pattern with a '/' or '**' matches the end of the whole path, any other
 * the last name only; '*' stays within a name, '**' crosses '/'.
 */
export function rsyncPattern(pattern: string): (rel: string, directory: boolean) => boolean {
  const dirOnly = pattern.endsWith('/');
  let p = dirOnly ? pattern.replace(/\/+$/, '') : pattern;
  const anchored = p.startsWith('/');
  if (anchored) p = p.slice(1);
  const whole = anchored || p.includes('/') || p.includes('**');
  const body = p.replace(/\*\*|\*|\?|\[[^\]]*\]|[.+^${}()|\\]/g, (t) => (t === '**' ? '.*' : t === '*' ? '[^/]*' : t === '?' ? '[^/]' : t.startsWith('[') ? t : `\\${t}`));
  const re = new RegExp(anchored ? `^${body}$` : whole ? `(^|/)${body}$` : `^${body}$`);
  return (rel, directory) => (!dirOnly || directory) && re.test(whole ? rel : rel.slice(rel.lastIndexOf('/') + 1));
}
