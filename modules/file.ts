// file: a path's state (file, directory, link, touch, absent) and its attributes.
import * as path from 'node:path';
import { ModuleError, type ArgsOf, type Diff, type FileStat, type Module, type ModuleContext, type Plan, type PlannedWrite } from '../engine/types.js';
import { applyAttributes, attributeChanges, attributeProperties, describeChanges, resolveAttributes, type AttributeChange, type FileAttributes } from './support/attributes.js';
import { execOrFail } from './support/host-commands.js';

type FileArgs = ArgsOf<typeof schema>;
type State = NonNullable<FileArgs['state']>;

interface FileObserved {
  /** The path itself (a link is not followed). */
  current: FileStat | null;
  /** What attributes apply to: the link target when follow is on, else the path. */
  target: FileStat | null;
  attributes: FileAttributes;
  /** Directories mkdir -p would create, outermost first. */
  missingDirs: string[];
  /** Some entry under a directory (recurse) has other attributes than wanted. */
  recurseMismatch: boolean;
  srcExists: boolean;
}

/** One command of a change; apply runs them in order. */
type Step =
  | { op: 'mkdir'; path: string }
  | { op: 'attributes'; path: string; changes: AttributeChange[]; noDereference?: boolean; recursive?: boolean }
  | { op: 'remove'; path: string }
  | { op: 'rmdir'; path: string }
  | { op: 'touch'; path: string }
  | { op: 'link'; src: string; path: string };

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  allOf: [
    { not: { required: ['state'], properties: { state: { const: 'link' } }, not: { required: ['src'] } }, 'x-message': 'src is required with state: link' },
    {
      not: { required: ['state', 'mode'], properties: { state: { const: 'link' } } },
      'x-message': 'mode cannot be set on a symbolic link (Linux ignores it); set it on the target instead',
    },
  ],
  properties: {
    path: { type: 'string', minLength: 1, 'x-aliases': ['dest', 'name'], description: 'absolute path on the host' },
    state: {
      type: 'string',
      enum: ['file', 'directory', 'link', 'touch', 'absent'],
      description: 'file: must exist; directory: created with parents; link: symbolic link to src; touch: created empty if missing; absent: removed recursively',
    },
    src: { type: 'string', minLength: 1, description: 'target of the symbolic link (state: link); relative to the link’s directory' },
    recurse: { type: 'boolean', default: false, description: 'state: directory: set the attributes on everything inside too' },
    force: { type: 'boolean', default: false, description: 'state: link: replace a file or an empty directory, or link to a missing src' },
    follow: { type: 'boolean', default: true, description: 'apply attributes to the target of a symbolic link rather than the link' },
    ...attributeProperties,
  },
} as const;

function stateOf(stat: FileStat | null): string {
  if (!stat) return 'absent';
  return stat.type === 'other' ? 'file' : stat.type;
}

function wantedState(args: FileArgs, current: FileStat | null): State {
  if (args.state) return args.state;
  if (current) return stateOf(current) as State;
  return args.recurse ? 'directory' : 'file';
}

async function missingDirectories(ctx: ModuleContext, dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    const st = await ctx.host.stat(d, { ...ctx.become, follow: true });
    if (st) {
      if (st.type !== 'directory') throw new ModuleError(`file: ${d} already exists as a ${st.type}, cannot create directory ${dir}`);
      return missing.reverse();
    }
    missing.push(d);
    if (d === path.dirname(d)) return missing.reverse();
  }
}

/** Whether anything below dir differs from the wanted attributes (find stops at the first). */
async function recurseMismatch(ctx: ModuleContext, dir: string, a: FileAttributes): Promise<boolean> {
  const tests: string[] = [];
  if (a.mode) tests.push('!', '-perm', a.mode);
  if (a.owner) tests.push(...(tests.length ? ['-o'] : []), '!', '-user', a.owner);
  if (a.group) tests.push(...(tests.length ? ['-o'] : []), '!', '-group', a.group);
  if (!tests.length) return false;
  const argv = ['find', dir, '-mindepth', '1', '!', '-type', 'l', '(', ...tests, ')', '-print', '-quit'];
  const r = await ctx.host.exec(argv, { ...ctx.become });
  // An unknown user or group makes find fail: plan the change and let chown say why.
  return r.exitCode !== 0 || r.stdout.trim() !== '';
}

export const file: Module<typeof schema, FileObserved, Step[]> = {
  name: 'file',
  description: 'Manage a path: file, directory, symbolic link, touch, absent; and its mode, owner and group',
  schema,

  async observe(ctx, args) {
    const current = await ctx.host.stat(args.path, { ...ctx.become, follow: false });
    const target = current?.type === 'link' && args.follow ? await ctx.host.stat(args.path, { ...ctx.become, follow: true }) : current;
    const state = wantedState(args, current);
    const attributes = await resolveAttributes(ctx, args);
    const observed: FileObserved = { current, target, attributes, missingDirs: [], recurseMismatch: false, srcExists: false };
    if (state === 'directory' && !target) observed.missingDirs = await missingDirectories(ctx, args.path);
    if (state === 'directory' && args.recurse && target?.type === 'directory') {
      observed.recurseMismatch = await recurseMismatch(ctx, args.path, attributes);
    }
    if (state === 'link' && args.src) {
      const src = path.resolve(path.dirname(args.path), args.src);
      observed.srcExists = !!(await ctx.host.stat(src, { ...ctx.become, follow: true }));
    }
    return observed;
  },

  plan(o, args) {
    const state = wantedState(args, o.current);
    switch (state) {
      case 'absent':
        return planAbsent(o, args);
      case 'file':
        return planFile(o, args);
      case 'directory':
        return planDirectory(o, args);
      case 'touch':
        return planTouch(o, args);
      case 'link':
        return planLink(o, args);
    }
  },

  async apply(ctx, steps) {
    for (const step of steps) await runStep(ctx, step);
    return {};
  },
};

function stateDiff(p: string, before: { state: string; changes?: AttributeChange[] }, after: { state: string; changes?: AttributeChange[] }): Diff {
  const text = (s: { state: string; changes?: AttributeChange[] }, side: 'before' | 'after') =>
    `path: ${p}\nstate: ${s.state}\n` +
    (s.changes ?? [])
      .filter((c) => c[side] !== '')
      .map((c) => `${c.field}: ${c[side]}\n`)
      .join('');
  return { target: p, before: text(before, 'before'), after: text(after, 'after') };
}

function change(summary: string, steps: Step[], diff: Diff, writes?: PlannedWrite[]): Plan<Step[]> {
  return { changed: true, summary, action: steps, diffs: [diff], writes };
}

function ok(p: string, state: string): Plan<Step[]> {
  return { changed: false, result: { path: p, state } };
}

function planAbsent(o: FileObserved, args: FileArgs): Plan<Step[]> {
  if (!o.current) return ok(args.path, 'absent');
  return change(`remove ${stateOf(o.current)} ${args.path}`, [{ op: 'remove', path: args.path }], stateDiff(args.path, { state: stateOf(o.current) }, { state: 'absent' }), [
    { path: args.path, content: null },
  ]);
}

function attributesPlan(o: FileObserved, args: FileArgs, state: string, noDereference = false): Plan<Step[]> {
  const changes = attributeChanges(o.target, o.attributes);
  if (!changes.length) return ok(args.path, state);
  return change(`${describeChanges(changes)} on ${args.path}`, [{ op: 'attributes', path: args.path, changes, noDereference }], stateDiff(args.path, { state, changes }, { state, changes }));
}

function planFile(o: FileObserved, args: FileArgs): Plan<Step[]> {
  if (!o.target) {
    throw new ModuleError(`file (${args.path}) is absent, cannot continue: the file does not exist (use state: touch to create it)`);
  }
  if (o.target.type === 'directory') throw new ModuleError(`file (${args.path}) is directory, cannot continue`);
  if (o.target.type === 'link' && args.mode) {
    throw new ModuleError(`file: mode cannot be set on the symbolic link ${args.path} itself (follow: false)`);
  }
  return attributesPlan(o, args, 'file', o.target.type === 'link');
}

function planDirectory(o: FileObserved, args: FileArgs): Plan<Step[]> {
  if (o.target && o.target.type !== 'directory') {
    throw new ModuleError(`file: ${args.path} already exists as a ${o.target.type}, cannot make it a directory`);
  }
  if (o.target) {
    if (!(args.recurse && o.recurseMismatch)) return attributesPlan(o, args, 'directory');
    const own = attributeChanges(o.target, o.attributes);
    const wanted = attributeChanges(null, o.attributes);
    return change(
      `set ${describeChanges(wanted)} recursively on ${args.path}`,
      [{ op: 'attributes', path: args.path, recursive: true, changes: wanted }],
      stateDiff(args.path, { state: 'directory', changes: own }, { state: 'directory (recursively)', changes: wanted }),
    );
  }
  const created = attributeChanges(null, o.attributes);
  const steps: Step[] = [{ op: 'mkdir', path: args.path }];
  // Like Ansible, every directory the task creates gets the wanted attributes, not just the last.
  if (created.length) for (const d of o.missingDirs) steps.push({ op: 'attributes', path: d, changes: created });
  return change(
    `create directory ${args.path}${o.attributes.mode ? ` (${o.attributes.mode})` : ''}`,
    steps,
    stateDiff(args.path, { state: 'absent' }, { state: 'directory', changes: created }),
    o.missingDirs.map((d) => ({ path: d, content: '', directory: true, mode: o.attributes.mode })),
  );
}

/** Unlike Ansible, touching an existing file changes nothing (its times are kept): touch stays idempotent. */
function planTouch(o: FileObserved, args: FileArgs): Plan<Step[]> {
  if (o.current) return attributesPlan(o, args, stateOf(o.target), o.target?.type === 'link');
  const created = attributeChanges(null, o.attributes);
  return change(
    `create empty file ${args.path}${o.attributes.mode ? ` (${o.attributes.mode})` : ''}`,
    [{ op: 'touch', path: args.path }, ...(created.length ? [{ op: 'attributes' as const, path: args.path, changes: created }] : [])],
    stateDiff(args.path, { state: 'absent' }, { state: 'file', changes: created }),
    [{ path: args.path, content: '', mode: o.attributes.mode }],
  );
}

function planLink(o: FileObserved, args: FileArgs): Plan<Step[]> {
  // The schema refuses these with state: link; here the state is implied (the path is a link).
  if (!args.src) throw new ModuleError(`file: ${args.path} is a symbolic link: give src (and state: link) to manage it, or another state`);
  if (args.mode) throw new ModuleError(`file: ${args.path} is a symbolic link: mode cannot be set on it (Linux ignores it); set it on the target instead`);
  const owned = attributeChanges(null, o.attributes);
  const linkSteps = (pre: Step[]): Step[] => [
    ...pre,
    { op: 'link', src: args.src!, path: args.path },
    ...(owned.length ? [{ op: 'attributes' as const, path: args.path, changes: owned, noDereference: true }] : []),
  ];
  const cur = o.current;
  if (cur?.type === 'link' && cur.linkTarget === args.src) {
    const changes = attributeChanges(cur, o.attributes);
    if (!changes.length) return ok(args.path, 'link');
    return change(
      `${describeChanges(changes)} on link ${args.path}`,
      [{ op: 'attributes', path: args.path, changes, noDereference: true }],
      stateDiff(args.path, { state: 'link', changes }, { state: 'link', changes }),
    );
  }
  if (!o.srcExists && !args.force) {
    throw new ModuleError(`file: src file does not exist, use force: true if you really want to create the link: ${args.src}`);
  }
  let pre: Step[] = [];
  if (cur?.type === 'directory') {
    if (!args.force) throw new ModuleError(`file: refusing to convert from directory to symlink for ${args.path} (force: true replaces an empty directory)`);
    pre = [{ op: 'rmdir', path: args.path }];
  } else if (cur && cur.type !== 'link') {
    if (!args.force) throw new ModuleError(`file: refusing to convert from ${cur.type} to symlink for ${args.path} (force: true replaces it)`);
    pre = [{ op: 'remove', path: args.path }];
  }
  const before = cur?.type === 'link' ? `link → ${cur.linkTarget}` : stateOf(cur);
  return change(`link ${args.path} → ${args.src}`, linkSteps(pre), stateDiff(args.path, { state: before }, { state: `link → ${args.src}` }));
}

async function runStep(ctx: ModuleContext, step: Step): Promise<void> {
  switch (step.op) {
    case 'mkdir':
      await execOrFail(ctx, ['mkdir', '-p', '--', step.path], `cannot create directory ${step.path}`);
      return;
    case 'attributes':
      await applyAttributes(ctx, step.path, step.changes, { noDereference: step.noDereference, recursive: step.recursive });
      return;
    case 'remove':
      await execOrFail(ctx, ['rm', '-rf', '--', step.path], `cannot remove ${step.path}`);
      return;
    case 'rmdir':
      await execOrFail(ctx, ['rmdir', '--', step.path], `the directory ${step.path} is not empty, refusing to convert it to a symlink`);
      return;
    case 'touch':
      await execOrFail(ctx, ['touch', '--', step.path], `cannot create ${step.path}`);
      return;
    case 'link':
      await execOrFail(ctx, ['ln', '-sfn', '--', step.src, step.path], `cannot link ${step.path} to ${step.src}`);
  }
}
