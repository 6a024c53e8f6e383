// Playbooks and roles in Ansible's shape become plays of task nodes; every node keeps its file:line.
import { statSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import { checkExpressions } from './expressions.js';
import { loadYamlFile, SourceError, SourceErrors, whereOf, whereOfValue, whereAtPath, writtenAsOctal, type Where } from './yaml.js';
import { validateAgainst } from '../schema-validation.js';
import { blockSections, playSchema, roleMetaSchema } from './user-file-schemas.js';
import { booleanWord, inheritable, keywordsOn, loadKeywords, type Flag, type Keywords } from './keywords.js';
import { readVarsFile } from './inventory.js';
import type { Module } from '../types.js';
import { engineActions, importRoleSchema, type EngineAction, type MetaAction } from './actions.js';
import { LIBRARY, withLibrary, type ModuleCatalog } from './user-modules.js';

export interface TaskNode {
  kind: 'task';
  name: string;
  module: Module;
  /** Arguments as written (expressions not yet rendered). */
  args: Record<string, unknown>;
  /** The keywords written on the task, typed (what blocks and the play hand down is added at run time). */
  keywords: Keywords;
  tags: string[];
  where: Where;
  /** The mapping the task was written as, to locate argument errors. */
  source: Record<string, unknown>;
  /** Where the task looks for files and templates: its role, then the playbook's folder. */
  baseDirs: string[];
  role?: RoleInstance;
  /** Set when the engine itself carries out the task (meta, include_tasks, include_role). */
  action?: EngineAction;
  /** The tags of the enclosing blocks, roles and play (not the task's own): what an include's tasks get. */
  outerTags: string[];
}

export interface BlockNode {
  kind: 'block';
  name?: string;
  block: Node[];
  rescue: Node[];
  always: Node[];
  /** What the block (or import, or role) hands down to the tasks inside. */
  keywords: Keywords;
  tags: string[];
  where: Where;
  /** Set on the block that wraps a role's tasks: its argument spec is checked on entry. */
  role?: RoleInstance;
}

export type Node = TaskNode | BlockNode;

export interface ArgumentOption {
  type?: string;
  required?: boolean;
  default?: unknown;
  choices?: unknown[];
  no_log?: boolean;
}

export interface RoleInstance {
  name: string;
  dir: string;
  defaults: Record<string, unknown>;
  vars: Record<string, unknown>;
  params: Record<string, unknown>;
  argumentSpec?: { options: Record<string, ArgumentOption>; where: Where };
}

export interface Play {
  name: string;
  hosts: string;
  vars: Record<string, unknown>;
  varsFiles: Record<string, unknown>;
  tasks: Node[];
  handlers: TaskNode[];
  /** The defaults of every role of the play, merged in load order (dependencies first): as in Ansible, visible to all its tasks. */
  roleDefaults: Record<string, unknown>;
  /** What the play hands down to every task (become, environment, no_log, ...); its vars are `vars`. */
  keywords: Keywords;
  serial?: (number | string)[];
  /** linear: each task on every host, then the next; free: each host through the tasks at its own pace. */
  strategy: 'linear' | 'free';
  gatherFacts: boolean;
  maxFailPercentage?: number;
  forceHandlers: boolean;
  secretVars: string[];
  where: Where;
  dir: string;
  /** What loaded the play: dynamic includes load their files with it at run time. */
  loader: LoadContext;
}

export type { ModuleCatalog } from './user-modules.js';

export interface LoadContext {
  modules: ModuleCatalog;
  /** Folders searched for roles after `<playbook dir>/roles`. */
  rolesPath: string[];
  /** Handlers of roles brought in by import_role, collected while a play loads. */
  importedHandlers?: TaskNode[];
  /** Problems found so far: loading goes on after one, to report them all at once. */
  problems?: SourceError[];
  /** Told each play's host pattern as soon as its file is read, before its roles load (the run connects ahead). */
  onPlayHosts?: (pattern: string) => void;
}

/** More problems than this in one load: the rest are not looked for. */
const MAX_PROBLEMS = 20;

/** Records a problem in the file and lets loading go on (when problems are being collected). */
function collect(ctx: LoadContext, e: unknown): void {
  if (!(e instanceof SourceError) || e instanceof SourceErrors || !ctx.problems) throw e;
  ctx.problems.push(e);
  if (ctx.problems.length >= MAX_PROBLEMS) throw new SourceErrors(ctx.problems, true);
}

export async function loadPlaybook(file: string, loadContext: LoadContext): Promise<Play[]> {
  if (loadContext.problems) return loadPlays(file, loadContext);
  const ctx = { ...loadContext, problems: [] };
  const plays = await loadPlays(file, ctx);
  if (ctx.problems.length === 1) throw ctx.problems[0];
  if (ctx.problems.length > 1) throw new SourceErrors(ctx.problems, false);
  // At run time, an include's problem is the failure of the hosts that reach it.
  for (const play of plays) play.loader = { ...play.loader, problems: undefined };
  return plays;
}

async function loadPlays(file: string, ctx: LoadContext): Promise<Play[]> {
  const data = await loadYamlFile(file);
  const fileWhere = { file, line: 1, col: 1 };
  if (!Array.isArray(data)) throw new SourceError('a playbook must be a list of plays', whereOf(data) ?? fileWhere);
  const dir = path.dirname(path.resolve(file));
  ctx.modules = await withLibrary(ctx.modules, path.join(dir, LIBRARY));
  for (const raw of data) {
    const hosts = raw && typeof raw === 'object' ? (raw as Record<string, unknown>).hosts : undefined;
    if (typeof hosts === 'string' || (Array.isArray(hosts) && hosts.every((h) => typeof h === 'string'))) ctx.onPlayHosts?.(playHosts(hosts));
  }
  const plays: Play[] = [];
  for (const [i, raw] of data.entries()) {
    if (raw && typeof raw === 'object' && 'import_playbook' in raw) {
      const target = path.resolve(dir, String((raw as Record<string, unknown>).import_playbook));
      plays.push(...(await loadPlays(target, ctx)));
      continue;
    }
    try {
      const problems = validateAgainst(playSchema, raw);
      if (problems.length) throw problemError('play', raw, problems[0]);
      plays.push(await loadPlay(raw as Record<string, unknown>, dir, ctx, whereOf(data, i) ?? fileWhere));
    } catch (e) {
      collect(ctx, e);
    }
  }
  return plays;
}

async function loadPlay(raw: Record<string, unknown>, dir: string, loadContext: LoadContext, where: Where): Promise<Play> {
  const ctx: LoadContext = { ...loadContext, importedHandlers: [] };
  const varsFiles: Record<string, unknown> = {};
  for (const [i, f] of ((raw.vars_files as string[] | undefined) ?? []).entries()) {
    const file = path.resolve(dir, f);
    if (!(await firstExistingOrNull([file]))) throw new SourceError(`vars_files: file not found: ${file}`, whereOf(raw.vars_files, i));
    Object.assign(varsFiles, await readVarsFile(file));
  }
  const playTags = toList(raw.tags);
  const handlers: TaskNode[] = [];
  const roleBlocks: Node[] = [];
  const seenRoles = new Set<string>();
  const dirs = [dir];
  for (const [i, r] of ((raw.roles as unknown[]) ?? []).entries()) {
    try {
      roleBlocks.push(...(await loadRole(r, dir, ctx, whereOf(raw.roles, i) ?? where, playTags, handlers, seenRoles)));
    } catch (e) {
      collect(ctx, e);
    }
  }
  const tasks = [
    ...(await loadTasks(raw.pre_tasks, dirs, ctx, playTags)),
    ...roleBlocks,
    ...(await loadTasks(raw.tasks, dirs, ctx, playTags)),
    ...(await loadTasks(raw.post_tasks, dirs, ctx, playTags)),
  ];
  handlers.push(...ctx.importedHandlers!, ...(await loadHandlers(raw.handlers, dirs, ctx)));
  const hosts = playHosts(raw.hosts);
  const { keywords } = loadKeywords(raw, 'play');
  // The play's vars are their own precedence layer, and its tags were given to each task above.
  const { vars: _vars, tags: _tags, ...handedDown } = inheritable(keywords);
  const { gather_facts, force_handlers, max_fail_percentage, strategy } = keywords;
  return {
    name: (raw.name as string | undefined) ?? hosts,
    hosts,
    vars: (raw.vars as Record<string, unknown> | null) ?? {},
    varsFiles,
    tasks,
    handlers,
    roleDefaults: Object.assign({}, ...roleBlocks.flatMap((b) => (b.kind === 'block' && b.role ? [b.role.defaults] : []))),
    keywords: handedDown,
    serial: raw.serial === undefined ? undefined : toList(raw.serial),
    strategy: strategy === 'free' ? 'free' : 'linear',
    gatherFacts: literalFlag(gather_facts, 'gather_facts', raw) ?? true,
    maxFailPercentage: typeof max_fail_percentage === 'number' ? max_fail_percentage : undefined,
    forceHandlers: literalFlag(force_handlers, 'force_handlers', raw) ?? true,
    secretVars: (raw.secret_vars as string[] | undefined) ?? [],
    where,
    dir,
    loader: ctx,
  };
}

/** A play's `hosts:` as one pattern (a list is a union). */
function playHosts(hosts: unknown): string {
  return Array.isArray(hosts) ? hosts.join(':') : String(hosts);
}

async function loadHandlers(list: unknown, baseDirs: string[], ctx: LoadContext): Promise<TaskNode[]> {
  const nodes = await loadTasks(list, baseDirs, ctx, [], undefined, 'handler');
  for (const n of nodes) {
    if (n.kind !== 'task') throw new SourceError('handlers cannot be blocks', n.where);
  }
  return nodes as TaskNode[];
}

const IMPORT_KEYS = ['import_tasks', 'ansible.builtin.import_tasks'];
const IMPORT_ROLE_KEYS = ['import_role', 'ansible.builtin.import_role'];
const INCLUDE_KEYS = ['include_tasks', 'include_role', 'ansible.builtin.include_tasks', 'ansible.builtin.include_role'];

/** Loads a list of tasks (and blocks, and imported task files). */
async function loadTasks(list: unknown, baseDirs: string[], ctx: LoadContext, inheritedTags: string[], role?: RoleInstance, place: 'task' | 'handler' = 'task'): Promise<Node[]> {
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list)) throw new SourceError('tasks must be a list', whereOf(list));
  const out: Node[] = [];
  for (const [i, raw] of list.entries()) {
    try {
      out.push(...(await loadTaskEntry(raw, whereOf(list, i) ?? { file: '?', line: 0, col: 0 }, baseDirs, ctx, inheritedTags, role, place)));
    } catch (e) {
      collect(ctx, e);
    }
  }
  return out;
}

/** One entry of a task list: a task, a block, or an import (of tasks or a role). */
async function loadTaskEntry(raw: unknown, where: Where, baseDirs: string[], ctx: LoadContext, inheritedTags: string[], role: RoleInstance | undefined, place: 'task' | 'handler'): Promise<Node[]> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SourceError('a task must be a mapping with a module name as one of its keys', where);
  }
  const task = raw as Record<string, unknown>;
  const importKey = IMPORT_KEYS.find((k) => k in task);
  if (importKey) {
    // An import is a block around the imported tasks: what is written on it applies to each of them.
    const { keywords, others } = loadKeywords(task, 'block', [importKey], importKey);
    if (others.length) throw new SourceError(`unknown keyword '${others[0]}' on ${importKey}`, whereOf(task, others[0]));
    const target = resolveIn(baseDirs, 'tasks', String(task[importKey]));
    const imported = await loadYamlFile(await firstExisting(target, whereOf(task, importKey)));
    const tags = [...inheritedTags, ...(keywords.tags ?? [])];
    const nodes = await loadTasks(imported, baseDirs, ctx, tags, role, place);
    const { name, ...handedDown } = keywords;
    checkExpressions(task, where, [importKey]);
    if (Object.keys(handedDown).length === 0) return nodes;
    return [{ kind: 'block', name, block: nodes, rescue: [], always: [], keywords: handedDown, tags, where }];
  }
  const importRoleKey = IMPORT_ROLE_KEYS.find((k) => k in task);
  if (importRoleKey) {
    checkExpressions(task, where);
    return importRole(task, importRoleKey, where, baseDirs, ctx, inheritedTags, place);
  }
  return ['block' in task ? await loadBlock(task, where, baseDirs, ctx, inheritedTags, role) : await loadTask(task, where, baseDirs, ctx, inheritedTags, role, place)];
}

async function loadBlock(raw: Record<string, unknown>, where: Where, baseDirs: string[], ctx: LoadContext, inheritedTags: string[], role?: RoleInstance): Promise<BlockNode> {
  const { keywords, others } = loadKeywords(raw, 'block', blockSections);
  if (others.length) {
    const key = others[0];
    throw new SourceError(`unknown block keyword '${key}'${suggest(key, keywordsOn('block'))}`, whereOf(raw, key));
  }
  checkExpressions(raw, where, blockSections);
  const tags = [...inheritedTags, ...(keywords.tags ?? [])];
  return {
    kind: 'block',
    name: keywords.name,
    block: await loadTasks(raw.block, baseDirs, ctx, tags, role),
    rescue: await loadTasks(raw.rescue, baseDirs, ctx, tags, role),
    always: await loadTasks(raw.always, baseDirs, ctx, tags, role),
    keywords,
    tags,
    where,
  };
}

async function loadTask(
  raw: Record<string, unknown>,
  where: Where,
  baseDirs: string[],
  ctx: LoadContext,
  inheritedTags: string[],
  role: RoleInstance | undefined,
  place: 'task' | 'handler',
): Promise<TaskNode> {
  const include = INCLUDE_KEYS.find((k) => k in raw);
  const { keywords, others: moduleKeys } = loadKeywords(raw, include ? 'include' : place, [], include);
  if (moduleKeys.length === 0) throw new SourceError('task has no module: add a key such as `command:` or `copy:`', where);
  if (moduleKeys.length > 1) {
    const unknown = moduleKeys.find((k) => !ctx.modules.has(shortName(k)) && !engineActions.has(shortName(k)));
    const key = unknown ?? moduleKeys[1];
    const known = include ? keywordsOn('include') : [...ctx.modules.keys(), ...engineActions.keys(), ...keywordsOn(place)];
    throw new SourceError(
      unknown
        ? `${include ? `unknown keyword '${unknown}' on ${include}` : `unknown ${place} keyword or module '${unknown}'`}${suggest(unknown, known)}`
        : `task names two modules: '${moduleKeys.join("', '")}'`,
      whereOf(raw, key),
    );
  }
  const moduleKey = moduleKeys[0];
  const entry = engineActions.get(shortName(moduleKey)) ?? ctx.modules.get(shortName(moduleKey));
  const module = typeof entry === 'function' ? await entry() : entry;
  if (!module) {
    throw new SourceError(`unknown module '${moduleKey}'${suggest(shortName(moduleKey), [...ctx.modules.keys(), ...engineActions.keys()])}`, whereOf(raw, moduleKey));
  }
  const args = moduleArgs(module, raw[moduleKey], keywords.args, whereOf(raw, moduleKey));
  renameAliases(module, args, raw[moduleKey], whereOf(raw, moduleKey));
  for (const [k, v] of Object.entries(args)) {
    // `mode: 0644` is octal in YAML 1.1, as in Ansible; a mode written without its leading zero is refused below.
    if (/mode$/.test(k) && typeof v === 'number' && (writtenAsOctal(raw[moduleKey], k) || writtenAsOctal(raw.args, k))) args[k] = octalMode(v);
  }
  // Arguments are checked here as far as they are literal; expressions are checked after rendering.
  checkArgs(module, args, raw, moduleKey);
  checkExpressions(raw, where);
  return {
    kind: 'task',
    name: keywords.name ?? `${module.name}${typeof raw[moduleKey] === 'string' ? ` ${raw[moduleKey]}` : ''}`,
    module,
    args,
    keywords,
    tags: [...inheritedTags, ...(keywords.tags ?? [])],
    outerTags: inheritedTags,
    where,
    source: raw,
    baseDirs,
    role,
    action: engineActionOf(module, args),
  };
}

function engineActionOf(module: Module, args: Record<string, unknown>): EngineAction | undefined {
  if (module.name === 'meta') return { kind: 'meta', meta: args.free_form as MetaAction };
  if (module.name !== 'include_tasks' && module.name !== 'include_role') return undefined;
  // `apply:` is checked now, as a block's keywords; the included file is read only when a host reaches it.
  if (args.apply !== undefined) args.apply = loadKeywords(args.apply as Record<string, unknown>, 'block', [], `${module.name} apply`).keywords;
  return { kind: module.name };
}

/** The keywords an include's `apply:` hands down (loaded and typed at load time). */
export function appliedKeywords(task: TaskNode): Keywords {
  return (task.args.apply as Keywords | undefined) ?? {};
}

/** An include_tasks' file, read when a host reaches it: its tasks, with the include's role and folders. */
export async function loadIncludedTasks(task: TaskNode, file: string, ctx: LoadContext, tags: string[]): Promise<Node[]> {
  const target = resolveIn(task.baseDirs, 'tasks', file);
  const data = await loadYamlFile(await firstExisting(target, task.where));
  return loadTasks(data, task.baseDirs, { ...ctx, problems: undefined }, tags, task.role);
}

/** An include_role, loaded when a host reaches it: the role's nodes (dependencies first) and its handlers. */
export async function loadIncludedRole(task: TaskNode, args: Record<string, unknown>, play: Play, tags: string[]): Promise<{ nodes: Node[]; handlers: TaskNode[] }> {
  const handlers: TaskNode[] = [];
  const nodes = await loadRole({ role: args.name }, play.dir, play.loader, task.where, tags, handlers, new Set(), roleFiles(args));
  return { nodes, handlers };
}

interface RoleFiles {
  tasks_from?: string;
  vars_from?: string;
  defaults_from?: string;
  handlers_from?: string;
}

function roleFiles(args: Record<string, unknown>): RoleFiles {
  const { tasks_from, vars_from, defaults_from, handlers_from } = args as RoleFiles;
  return { tasks_from, vars_from, defaults_from, handlers_from };
}

/** import_role: the role loaded now, as a `roles:` entry would be, where it is written among the tasks. */
async function importRole(raw: Record<string, unknown>, key: string, where: Where, baseDirs: string[], ctx: LoadContext, inheritedTags: string[], place: 'task' | 'handler'): Promise<Node[]> {
  if (place === 'handler') throw new SourceError('import_role is not allowed among handlers', whereOf(raw, key));
  const { others } = loadKeywords(raw, 'role', [key], key);
  if (others.length) throw new SourceError(`unknown keyword '${others[0]}' on ${key}`, whereOf(raw, others[0]));
  const { [key]: args, ...written } = raw;
  const problems = validateAgainst(importRoleSchema, args);
  if (problems.length) throw problemError(key, args, problems[0]);
  const a = args as Record<string, unknown>;
  const handlers: TaskNode[] = [];
  const playDir = baseDirs[baseDirs.length - 1];
  const nodes = await loadRole({ role: a.name, ...written }, playDir, ctx, where, inheritedTags, handlers, new Set(), roleFiles(a));
  (ctx.importedHandlers ??= []).push(...handlers);
  return nodes;
}

function moduleArgs(module: Module, value: unknown, extra: unknown, where?: Where): Record<string, unknown> {
  let args: Record<string, unknown>;
  if (value === null || value === undefined) args = {};
  else if (typeof value === 'string' && module.freeForm) args = { [module.freeForm]: value };
  else if (typeof value === 'string') args = typedKeyValues(module, parseKeyValues(value, where));
  else if (typeof value === 'object' && !Array.isArray(value)) args = value as Record<string, unknown>;
  else throw new SourceError(`arguments of ${module.name} must be a mapping`, where);
  return { ...(extra as Record<string, unknown> | undefined), ...args };
}

/** `path=/tmp/x state=touch` → { path: '/tmp/x', state: 'touch' }; quotes and `{{ }}` may hold spaces. */
function parseKeyValues(text: string, where?: Where): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const word of splitWords(text)) {
    const m = /^(\w+)=(.*)$/s.exec(word);
    if (!m) throw new SourceError(`arguments must be a mapping or key=value pairs; '${word}' is not key=value`, where);
    out[m[1]] = /^(["'])(.*)\1$/s.exec(m[2])?.[2] ?? m[2];
  }
  if (Object.keys(out).length === 0) throw new SourceError('arguments must be a mapping or key=value pairs', where);
  return out;
}

function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) quote = c === quote ? '' : quote;
    else if (c === '"' || c === "'") quote = c;
    else if (text.startsWith('{{', i)) depth++;
    else if (text.startsWith('}}', i) && depth > 0) depth--;
    else if (/\s/.test(c) && depth === 0) {
      if (word) words.push(word);
      word = '';
      continue;
    }
    word += c;
  }
  if (word) words.push(word);
  return words;
}

/** `dest:` for lineinfile's `path:`: each field's aliases, declared in the module's schema, become the field. */
function renameAliases(module: Module, args: Record<string, unknown>, written: unknown, where?: Where): void {
  const props = (module.schema.properties ?? {}) as Record<string, { 'x-aliases'?: string[] }>;
  for (const [field, spec] of Object.entries(props)) {
    for (const alias of spec['x-aliases'] ?? []) {
      if (!(alias in args)) continue;
      const at = whereOf(written, alias) ?? where;
      if (field in args) throw new SourceError(`${module.name}: '${alias}' is another name for '${field}': write only one of them`, at);
      args[field] = args[alias];
      delete args[alias];
    }
  }
}

/** `create=yes` in key=value arguments: the words become what the module's schema says the field is. */
function typedKeyValues(module: Module, args: Record<string, unknown>): Record<string, unknown> {
  const props = (module.schema.properties ?? {}) as Record<string, { type?: string | string[] }>;
  for (const [k, v] of Object.entries(args)) {
    const types = [props[k]?.type ?? []].flat();
    if (typeof v !== 'string' || types.includes('string') || v.includes('{{')) continue;
    if (types.includes('boolean') && booleanWord(v) !== undefined) args[k] = booleanWord(v);
    else if ((types.includes('integer') || types.includes('number')) && v.trim() !== '' && Number.isFinite(Number(v))) args[k] = Number(v);
  }
  return args;
}

export function checkArgs(module: Module, args: Record<string, unknown>, source: Record<string, unknown>, moduleKey: string): void {
  const problems = validateAgainst(module.schema, structuredClone(args)).filter((p) => !isExpression(valueAt(args, p.path)) && !pathHasExpression(args, p.path));
  if (problems.length === 0) return;
  const p = problems[0];
  const argsNode = source[moduleKey] && typeof source[moduleKey] === 'object' ? source[moduleKey] : source;
  // A free-form value (`meta: flush_handler`, `command: ls`) is the argument itself.
  const where = (typeof source[moduleKey] === 'string' ? whereOfValue(source, moduleKey) : whereAtPath(argsNode, p.path)) ?? whereOf(source, moduleKey);
  throw new SourceError(`${module.name}: ${p.path.join('.') || 'arguments'}: ${explain(p.path, p.message, valueAt(args, p.path))}`, where);
}

function explain(field: (string | number)[], message: string, value: unknown): string {
  const last = String(field[field.length - 1] ?? '');
  if (/mode$/.test(last) && typeof value === 'number') {
    return `${value} without a leading zero is the decimal number ${value}, not a file mode: write 0${value} or '0${value}'`;
  }
  return message;
}

function isExpression(v: unknown): boolean {
  return typeof v === 'string' && v.includes('{{');
}

function pathHasExpression(args: unknown, p: (string | number)[]): boolean {
  // A missing field may come from an expression that renders to a mapping.
  let node: unknown = args;
  for (const key of p) {
    if (isExpression(node)) return true;
    node = node && typeof node === 'object' ? (node as Record<string | number, unknown>)[key] : undefined;
  }
  return isExpression(node);
}

function valueAt(v: unknown, p: (string | number)[]): unknown {
  for (const k of p) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

async function loadRole(ref: unknown, playDir: string, ctx: LoadContext, where: Where, inheritedTags: string[], handlers: TaskNode[], seen: Set<string>, files: RoleFiles = {}): Promise<Node[]> {
  const spec = typeof ref === 'string' ? { role: ref } : (ref as Record<string, unknown>);
  const name = String(spec.role);
  const { keywords, others } = loadKeywords(spec, 'role', ['role']);
  checkExpressions(spec, where, ['role']);
  const params = Object.fromEntries(others.map((k) => [k, spec[k]]));
  const dir = await findRole(name, playDir, ctx, where);
  // As in Ansible, a role's modules serve the role and everything loaded after it.
  ctx.modules = await withLibrary(ctx.modules, path.join(dir, LIBRARY));
  const read = async (sub: string, from?: string) => {
    const names = from ? [from, `${from}.yml`, `${from}.yaml`] : ['main.yml', 'main.yaml'];
    const candidates = names.map((n) => path.join(dir, sub, n));
    const f = await firstExistingOrNull(candidates);
    if (!f && from) throw new SourceError(`role ${name}: ${sub}/${from} not found; looked in: ${candidates.join(', ')}`, where);
    return f ? loadYamlFile(f) : null;
  };
  const metaFile = await firstExistingOrNull([path.join(dir, 'meta', 'main.yml'), path.join(dir, 'meta', 'main.yaml')]);
  const meta = (metaFile ? await loadYamlFile(metaFile) : null) as Record<string, unknown> | null;
  if (meta) {
    const problems = validateAgainst(roleMetaSchema, meta);
    if (problems.length) throw problemError(`role ${name} meta`, meta, problems[0]);
  }
  const specs = (meta?.argument_specs as Record<string, { options?: Record<string, ArgumentOption> }> | undefined)?.main;
  const role: RoleInstance = {
    name,
    dir,
    defaults: ((await read('defaults', files.defaults_from)) as Record<string, unknown> | null) ?? {},
    vars: { ...(((await read('vars', files.vars_from)) as Record<string, unknown> | null) ?? {}), ...keywords.vars },
    params,
    argumentSpec: specs?.options ? { options: specs.options, where: whereOf(specs) ?? where } : undefined,
  };
  const out: Node[] = [];
  const roleTags = [...inheritedTags, ...(keywords.tags ?? [])];
  // Dependencies inherit the role's tags, as in Ansible: `-t app` runs what app depends on.
  for (const [i, dep] of ((meta?.dependencies as unknown[]) ?? []).entries()) {
    const depName = typeof dep === 'string' ? dep : String((dep as Record<string, unknown>).role);
    if (seen.has(depName)) continue;
    out.push(...(await loadRole(dep, playDir, ctx, whereOf(meta!.dependencies, i) ?? where, roleTags, handlers, seen)));
  }
  seen.add(name);
  // Ansible's order for a role's files and templates: the role's, then the playbook's.
  const baseDirs = [dir, playDir];
  const tasks = await loadTasks(await read('tasks', files.tasks_from), baseDirs, ctx, roleTags, role);
  handlers.push(...(await loadHandlers(await read('handlers', files.handlers_from), baseDirs, ctx)).map((h) => ({ ...h, role })));
  // The role's vars are their own precedence layer (role vars), not block vars.
  const { vars: _vars, name: _name, ...handedDown } = keywords;
  out.push({ kind: 'block', name: `role ${name}`, block: tasks, rescue: [], always: [], keywords: handedDown, tags: roleTags, where, role });
  return out;
}

async function findRole(name: string, playDir: string, ctx: LoadContext, where: Where): Promise<string> {
  const candidates = [path.join(playDir, 'roles', name), ...ctx.rolesPath.map((p) => path.join(p, name))];
  for (const c of candidates) if (await isDir(c)) return c;
  throw new SourceError(`role '${name}' not found; looked in: ${candidates.join(', ')}`, where);
}

function resolveIn(baseDirs: string[], sub: string, file: string): string[] {
  if (path.isAbsolute(file)) return [file];
  return baseDirs.flatMap((d) => [path.join(d, sub, file), path.join(d, file)]);
}

async function firstExisting(candidates: string[], where?: Where): Promise<string> {
  const found = await firstExistingOrNull(candidates);
  if (!found) throw new SourceError(`file not found; looked in: ${candidates.join(', ')}`, where);
  return found;
}

/** Synchronous, as readText: a role's lookups are many small probes one after the other. */
async function firstExistingOrNull(candidates: string[]): Promise<string | null> {
  for (const c of candidates) if (statOrNull(c)?.isFile()) return c;
  return null;
}

async function isDir(p: string): Promise<boolean> {
  return statOrNull(p)?.isDirectory() ?? false;
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p, { throwIfNoEntry: false }) ?? null;
  } catch {
    // Not a folder on the way (ENOTDIR), or not readable: not found here.
    return null;
  }
}

/** Every task below some nodes, blocks' sections in order. */
export function* tasksOf(nodes: Node[]): Generator<TaskNode> {
  for (const n of nodes) {
    if (n.kind === 'task') yield n;
    else for (const section of [n.block, n.rescue, n.always]) yield* tasksOf(section);
  }
}

/** A play keyword that must be written as a boolean, not an expression. */
function literalFlag(flag: Flag | undefined, key: string, raw: Record<string, unknown>): boolean | undefined {
  if (flag === undefined || typeof flag === 'boolean') return flag;
  throw new SourceError(`${key}: must be true or false here, not an expression`, whereOf(raw, key));
}

/** A mode as a number of permission bits (420) → its octal text ('0644'). */
export function octalMode(bits: number): string {
  return `0${bits.toString(8).padStart(3, '0')}`;
}

function toList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map(String);
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function shortName(key: string): string {
  return key.replace(/^ansible\.(builtin|legacy)\./, '').replace(/^(plinth|community\.postgresql|community\.crypto|community\.general|ansible\.posix)\./, '');
}

function problemError(what: string, data: unknown, p: { path: (string | number)[]; message: string }): SourceError {
  return new SourceError(`${what}: ${p.path.length ? `${p.path.join('.')}: ` : ''}${p.message}`, whereAtPath(data, p.path));
}

function suggest(name: string, known: string[]): string {
  const close = known.filter((k) => editDistance(k, name) <= 2);
  return close.length ? ` (did you mean '${close[0]}'?)` : '';
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}
