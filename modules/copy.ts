// copy: puts a file on the host from inline `content` or a controller file `src`; a controller
// directory as `src` is copied as a tree (its contents when src ends in '/', else the directory
// itself), each file compared by checksum and replaced atomically.
import * as path from 'node:path';
import { ModuleError, type ArgsOf, type Module, type ModuleContext } from '../engine/types.js';
import { attributeProperties, modeSchema, normalizeMode } from './support/attributes.js';
import { findControllerFile, findControllerPath, readControllerTree, type ControllerFile } from './support/controller-files.js';
import { applyTree, observeHostTree, observeTree, planTree, type TreeAction, type TreeObserved, type WantedEntry } from './support/file-tree.js';
import { applyManagedFile, observeManagedFile, planManagedFile, type ManagedFile, type ManagedFileAction, validateProperty } from './support/managed-file.js';

type CopyObserved =
  | { file: ManagedFile; desired: Buffer; src?: string }
  /** src is a directory on the controller. */
  | { tree: TreeObserved };

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['dest'],
  oneOf: [{ required: ['content'] }, { required: ['src'] }],
  'x-message': 'write either content or src (one of them, not both)',
  properties: {
    dest: { type: 'string', minLength: 1, description: 'absolute path on the host; an existing directory receives src under its own name' },
    content: { type: 'string', description: 'the exact content to write (instead of src)' },
    src: {
      type: 'string',
      minLength: 1,
      description: 'file on the controller: files/<src>, then <src>, under each playbook or role directory',
    },
    backup: { type: 'boolean', default: false, description: 'keep a timestamped copy of the old file beside it' },
    validate: validateProperty,
    remote_src: { type: 'boolean', default: false, description: 'src is a file or directory on the host, not on the controller' },
    force: { type: 'boolean', default: true, description: 'replace a file whose content differs; false only creates missing files' },
    directory_mode: { ...modeSchema, description: "mode of the directories a directory src creates (existing ones keep theirs), e.g. '0755'" },
    ...attributeProperties,
  },
} as const;

type CopyArgs = ArgsOf<typeof schema>;

export const copy: Module<typeof schema, CopyObserved, ManagedFileAction | TreeAction> = {
  name: 'copy',
  description: 'Copy inline content or a controller file to the host',
  schema,

  async observe(ctx, args) {
    if (args.src !== undefined && !args.remote_src) {
      const found = await findControllerPath(ctx, 'files', args.src);
      if (found.directory) return { tree: await observeDirectoryCopy(ctx, args, found.path) };
    }
    if (args.src !== undefined && args.remote_src && (await ctx.host.stat(args.src, { ...ctx.become, follow: true }))?.type === 'directory') {
      return { tree: await observeHostDirectoryCopy(ctx, args) };
    }
    const source = args.src === undefined ? undefined : args.remote_src ? await hostFile(ctx, args.src) : await findControllerFile(ctx, 'files', args.src);
    const desired = source ? source.content : Buffer.from(args.content ?? '', 'utf8');
    const attrs = { mode: args.mode, owner: args.owner, group: args.group };
    let file = await observeManagedFile(ctx, args.dest, attrs);
    if (file.stat?.type === 'directory' || args.dest.endsWith('/')) {
      if (!source) throw new ModuleError(`copy: dest ${args.dest} is a directory; content needs a file path`);
      file = await observeManagedFile(ctx, path.join(args.dest, path.basename(source.path)), attrs);
      if (file.stat?.type === 'directory') throw new ModuleError(`copy: ${file.path} is a directory`);
    }
    if (file.stat && file.stat.type !== 'file') throw new ModuleError(`copy: ${file.path} exists and is not a regular file`);
    return { file, desired, src: source?.name };
  },

  plan(observed, args) {
    if ('tree' in observed) {
      const directoryMode = args.directory_mode === undefined ? undefined : normalizeMode(args.directory_mode);
      return planTree(observed.tree, { delete: false, replace: args.force, directoryMode }, { src: observed.tree.source });
    }
    const { file } = observed;
    const result = { dest: file.path, ...(observed.src ? { src: observed.src } : {}) };
    if (!args.force && file.stat) return { changed: false, result };
    return planManagedFile(file, observed.desired, { backup: args.backup, validate: args.validate, result });
  },

  apply: (ctx, action) => ('mkdir' in action ? applyTree(ctx, action) : applyManagedFile(ctx, action)),
};

/** A controller directory as the wanted tree under dest (dest/<name> unless src ends in '/'). */
async function observeDirectoryCopy(ctx: ModuleContext, args: CopyArgs, dir: string): Promise<TreeObserved> {
  const mode = refuseForDirectories(args);
  const wanted = (await readControllerTree(ctx, dir)).map((e) => (e.type === 'file' ? { path: e.path, type: e.type, content: e.content, mode } : { path: e.path, type: e.type }));
  return observeTree(ctx, { dest: treeDest(args, dir), source: ctx.controllerFiles.display(dir) + (args.src!.endsWith('/') ? '/' : ''), wanted, delete: false, owner: args.owner, group: args.group });
}

/**
 * A directory on the host (remote_src) as the wanted tree: listed with digests in one command;
 * only the files dest lacks or holds otherwise are read (over the connection) to be written.
 */
async function observeHostDirectoryCopy(ctx: ModuleContext, args: CopyArgs): Promise<TreeObserved> {
  const mode = refuseForDirectories(args);
  const src = args.src!.replace(/(.)\/+$/, '$1');
  const listing = await observeHostTree(ctx, src, [], true);
  const odd = listing.found.find((e) => e.type !== 'file' && e.type !== 'directory');
  if (odd) throw new ModuleError(`copy: ${path.posix.join(src, odd.path)} on the host is a ${odd.type === 'link' ? 'symbolic link' : 'special file'}; remote_src copies files and directories only`);
  const wanted: WantedEntry[] = listing.found.map((e) => (e.type === 'file' ? { path: e.path, type: 'file', sha256: e.sha256, mode } : { path: e.path, type: 'directory' }));
  const tree = await observeTree(ctx, { dest: treeDest(args, src), source: args.src!, wanted, delete: false, owner: args.owner, group: args.group });
  const there = new Map(tree.found.map((e) => [e.path, e]));
  const toRead = wanted.filter((w) => w.type === 'file' && there.get(w.path)?.sha256 !== w.sha256);
  const contents = await Promise.all(toRead.map((w) => ctx.host.read(path.posix.join(src, w.path), { ...ctx.become })));
  toRead.forEach((w, i) => {
    if (!contents[i]) throw new ModuleError(`copy: ${path.posix.join(src, w.path)} vanished from the host while it was read`);
    w.content = contents[i]!;
  });
  return tree;
}

/** What a directory src cannot take; the files' mode. */
function refuseForDirectories(args: CopyArgs): string | undefined {
  if (args.validate !== undefined) throw new ModuleError(`copy: validate checks one file; src ${args.src} is a directory`);
  if (args.backup) throw new ModuleError(`copy: backup keeps one file; src ${args.src} is a directory`);
  return args.mode === undefined ? undefined : normalizeMode(args.mode);
}

/** dest itself when src ends in '/', else dest/<the directory's name>. */
function treeDest(args: CopyArgs, dir: string): string {
  return args.src!.endsWith('/') ? args.dest.replace(/(.)\/+$/, '$1') : path.posix.join(args.dest, path.basename(dir));
}

async function hostFile(ctx: ModuleContext, src: string): Promise<ControllerFile> {
  const content = await ctx.host.read(src, { ...ctx.become });
  if (!content) throw new ModuleError(`copy: src ${src} does not exist on ${ctx.host.name} (remote_src: true reads it from the host)`);
  return { path: src, name: src, content };
}
