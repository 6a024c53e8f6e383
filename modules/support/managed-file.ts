// A file whose content and attributes a module decides: copy, template, lineinfile and
// blockinfile observe it, compute the content they want, and let this plan and apply it.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { ApplyResult, Diff, FileStat, ModuleContext, Plan, PlannedWrite } from '../../engine/types.js';
import { ModuleError, UnreachableError } from '../../engine/types.js';
import { applyAttributes, attributeChanges, attributesDiff, describeChanges, resolveAttributes, type AttributeChange, type FileAttributes } from './attributes.js';
import { backupFile, execOrFail } from './host-commands.js';
import { diffText, isBinary } from './text.js';
import { splitWords } from './words.js';

export interface ManagedFile {
  path: string;
  /** The file as it is (symbolic links followed), null when missing. */
  stat: FileStat | null;
  content: Buffer | null;
  parentExists: boolean;
  attributes: FileAttributes;
}

export interface ManagedFileAction {
  path: string;
  /** Base64 of the new content; absent when only attributes change. */
  content?: string;
  attributes: FileAttributes;
  attributeChanges: AttributeChange[];
  backup: boolean;
  makeParents: boolean;
  /** A command that must accept the new content (at %s) before it replaces the file. */
  validate?: string;
}

interface ManagedFileOptions {
  backup?: boolean;
  /** Create missing parent directories (lineinfile/blockinfile `create`), instead of failing. */
  makeParents?: boolean;
  /** Merged into the module's result. */
  result?: Record<string, unknown>;
  validate?: string;
}

/** The `validate` argument of copy, template and replace (as Ansible's). */
export const validateProperty = {
  type: 'string',
  pattern: '%s',
  description: "command that checks the new content before it replaces the file; %s is a temporary file holding it (e.g. 'visudo -cf %s')",
} as const;

/** Reads the file and its attributes. A directory at the path is the caller's to refuse. */
export async function observeManagedFile(ctx: ModuleContext, file: string, wanted: FileAttributes): Promise<ManagedFile> {
  // Asked together (one round trip instead of three): the content is read before the stat says it
  // is a file; a failed read counts only when it is one.
  const [stat, read, attributes] = await Promise.all([
    ctx.host.stat(file, { ...ctx.become, follow: true }),
    ctx.host.read(file, { ...ctx.become }).then(
      (v) => ({ v }),
      (e: unknown) => ({ e }),
    ),
    resolveAttributes(ctx, wanted),
  ]);
  let content: Buffer | null = null;
  if (stat?.type === 'file') {
    if ('e' in read) throw read.e;
    content = read.v;
  }
  const parent = stat ? stat : await ctx.host.stat(path.dirname(file), { ...ctx.become, follow: true });
  return {
    path: file,
    stat,
    content,
    parentExists: !!stat || parent?.type === 'directory',
    attributes,
  };
}

/** Plans writing `desired` (null: keep the content, manage only the attributes). */
export function planManagedFile(file: ManagedFile, desired: Buffer | null, opts: ManagedFileOptions = {}): Plan<ManagedFileAction> {
  const contentChanges = desired !== null && (file.content === null || !file.content.equals(desired));
  const changes = file.stat ? attributeChanges(file.stat, file.attributes) : [];
  if (!contentChanges && changes.length === 0) return { changed: false, result: opts.result };
  const creating = !file.stat;
  if (creating && !file.parentExists && !opts.makeParents) {
    return { unknown: true, summary: `create ${file.path}`, reason: `directory ${path.dirname(file.path)} does not exist` };
  }

  const diffs: Diff[] = [];
  const writes: PlannedWrite[] = [];
  if (contentChanges) {
    diffs.push(contentDiff(file.path, file.content, desired));
    writes.push({ path: file.path, content: desired.toString('utf8'), mode: file.attributes.mode });
  } else if (file.content && file.attributes.mode) {
    writes.push({ path: file.path, content: file.content.toString('utf8'), mode: file.attributes.mode });
  }
  if (changes.length) diffs.push(attributesDiff(file.path, changes));

  return {
    changed: true,
    summary: summarize(file, contentChanges, changes),
    diffs,
    writes,
    result: opts.result,
    action: {
      path: file.path,
      content: contentChanges ? desired.toString('base64') : undefined,
      attributes: file.attributes,
      attributeChanges: changes,
      backup: !!opts.backup && !creating && contentChanges,
      makeParents: creating && !file.parentExists,
      ...(opts.validate !== undefined && contentChanges ? { validate: opts.validate } : {}),
    },
  };
}

function summarize(file: ManagedFile, contentChanges: boolean, changes: AttributeChange[]): string {
  if (!file.stat) return `create ${file.path}${file.attributes.mode ? ` (${file.attributes.mode})` : ''}`;
  if (!contentChanges) return `${describeChanges(changes)} on ${file.path}`;
  return `update ${file.path}${changes.length ? `, ${describeChanges(changes)}` : ''}`;
}

function contentDiff(target: string, before: Buffer | null, after: Buffer): Diff {
  const binary = (before !== null && isBinary(before)) || isBinary(after);
  return binary ? { target, before: diffText(before), after: `binary file changed (${after.length} bytes)\n` } : { target, before: diffText(before), after: after.toString('utf8') };
}

export async function applyManagedFile(ctx: ModuleContext, action: ManagedFileAction): Promise<ApplyResult> {
  const result: Record<string, unknown> = {};
  if (action.backup) result.backup_file = await backupFile(ctx, action.path);
  if (action.makeParents) {
    const dir = path.dirname(action.path);
    await execOrFail(ctx, ['mkdir', '-p', '--', dir], `cannot create directory ${dir}`);
  }
  if (action.content !== undefined && action.validate !== undefined) await validateContent(ctx, action);
  if (action.content !== undefined) {
    try {
      await ctx.host.write(action.path, Buffer.from(action.content, 'base64'), { ...action.attributes, ...ctx.become });
    } catch (e) {
      if (e instanceof UnreachableError) throw e;
      const message = (e as Error).message;
      // The ssh connection already says "cannot write <file> on <host>: <why>".
      throw new ModuleError(message.startsWith(`cannot write ${action.path} `) ? message : `cannot write ${action.path}: ${message}`);
    }
  } else {
    await applyAttributes(ctx, action.path, action.attributeChanges);
  }
  return { result };
}

/** Writes the content beside the file, runs the validate command on it, and removes it again. */
async function validateContent(ctx: ModuleContext, action: ManagedFileAction): Promise<void> {
  const temp = path.join(path.dirname(action.path), `.${path.basename(action.path)}.plinth-validate-${randomBytes(6).toString('hex')}`);
  const argv = splitWords(action.validate!).map((w) => w.replace('%s', temp));
  await ctx.host.write(temp, Buffer.from(action.content!, 'base64'), { mode: action.attributes.mode ?? '0600', ...ctx.become });
  try {
    const r = await ctx.host.exec(argv, { ...ctx.become });
    if (r.exitCode !== 0) {
      throw new ModuleError(`failed to validate ${action.path} with '${action.validate}': rc ${r.exitCode}: ${(r.stderr.trim() || r.stdout.trim()).replaceAll(temp, '%s')}`);
    }
  } finally {
    await ctx.host.exec(['rm', '-f', '--', temp], { ...ctx.become });
  }
}
