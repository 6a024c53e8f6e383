// Task keys that are not modules of a host but actions of the engine, as in Ansible: `meta`,
// the dynamic `include_tasks`/`include_role` (read at run time, per host), and `include_vars`
// (variables read on the controller). Each has a schema like a module, so its arguments are
// checked the same way; the runner carries out meta and the includes.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModuleError, type Module } from '../types.js';
import { readVarsFile } from './inventory.js';

const META_ACTIONS = ['flush_handlers', 'end_play', 'end_host', 'noop', 'clear_facts'] as const;
export type MetaAction = (typeof META_ACTIONS)[number];

/** What the runner does itself for a task, instead of running a module. */
export type EngineAction = { kind: 'meta'; meta: MetaAction } | { kind: 'include_tasks' } | { kind: 'include_role' };

const runByTheRunner = async (): Promise<never> => {
  throw new Error('internal error: an engine action reached the module runner');
};

function engineAction(name: string, description: string, schema: Record<string, unknown>, freeForm?: string): Module {
  return { name, description, schema, freeForm, controllerOnly: true, observe: runByTheRunner, plan: runByTheRunner, apply: runByTheRunner };
}

const meta = engineAction(
  'meta',
  'Act on the run itself: flush_handlers, end_play, end_host, noop, clear_facts',
  {
    type: 'object',
    additionalProperties: false,
    required: ['free_form'],
    properties: { free_form: { enum: [...META_ACTIONS], description: 'what to do' } },
  },
  'free_form',
);

const applyKeywords = { type: 'object', description: 'Keywords handed down to the included tasks (become, tags, no_log, ...).' };

const includeTasks = engineAction(
  'include_tasks',
  'Read a task file at run time, for each host that reaches it (and each loop item), and run its tasks',
  {
    type: 'object',
    additionalProperties: false,
    required: ['file'],
    properties: { file: { type: 'string', minLength: 1, description: 'the task file (looked up in tasks/ of the role, then beside the playbook)' }, apply: applyKeywords },
  },
  'file',
);

const roleReference = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, description: 'the role' },
    tasks_from: { type: 'string', minLength: 1, description: 'task file of the role to run instead of tasks/main.yml' },
    vars_from: { type: 'string', minLength: 1, description: 'vars file of the role to read instead of vars/main.yml' },
    defaults_from: { type: 'string', minLength: 1, description: 'defaults file of the role to read instead of defaults/main.yml' },
    handlers_from: { type: 'string', minLength: 1, description: 'handlers file of the role to read instead of handlers/main.yml' },
    apply: applyKeywords,
    public: { type: 'boolean', description: "accepted for compatibility: role variables are always visible to the role's tasks only" },
    allow_duplicates: { type: 'boolean' },
  },
};

const includeRole = engineAction('include_role', 'Load a role at run time, for each host that reaches it, and run its tasks', roleReference);
/** Loaded with the playbook (static), like a `roles:` entry written among the tasks. */
export const importRoleSchema = roleReference;

interface IncludeVarsArgs {
  file?: string;
  dir?: string;
  name?: string;
  files_matching?: string;
  ignore_files?: string[];
  depth?: number;
  extensions?: string[];
}

/** include_vars: variables from a file or a folder of files on the controller, for the host (vault files too). */
const includeVars: Module<IncludeVarsArgs, { vars: Record<string, unknown>; files: string[] }, never> = {
  name: 'include_vars',
  description: 'Read variables from a YAML/JSON file (or every file of a folder) on the controller',
  freeForm: 'file',
  controllerOnly: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      file: { type: 'string', minLength: 1, description: 'a vars file (relative: vars/ of the role, then beside the playbook)' },
      dir: { type: 'string', minLength: 1, description: 'a folder: every file with one of the extensions, in name order' },
      name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'put the variables under this one name instead' },
      files_matching: { type: 'string', description: 'with dir: only files whose name matches this regular expression' },
      ignore_files: { type: 'array', items: { type: 'string' }, description: 'with dir: file names to skip' },
      depth: { type: 'integer', minimum: 0, description: 'with dir: how deep to go (0: no limit)' },
      extensions: { type: 'array', items: { type: 'string' }, default: ['yaml', 'yml', 'json'] },
    },
  },

  async observe(ctx, args) {
    if ((args.file === undefined) === (args.dir === undefined)) throw new ModuleError('include_vars: give either file or dir');
    const files = args.file !== undefined ? [await findVarsFile(args.file, ctx.baseDirs, 'vars')] : await varsFilesIn(await findVarsFile(args.dir!, ctx.baseDirs, 'vars', true), args);
    const vars: Record<string, unknown> = {};
    for (const f of files) Object.assign(vars, await readVarsFile(f));
    return { vars: args.name ? { [args.name]: vars } : vars, files };
  },

  plan: (observed) => ({ changed: false, result: { ansible_facts: observed.vars, ansible_included_var_files: observed.files } }),

  async apply() {
    return { changed: false };
  },
};

async function findVarsFile(name: string, baseDirs: string[], sub: string, directory = false): Promise<string> {
  const candidates = path.isAbsolute(name) ? [name] : baseDirs.flatMap((d) => [path.join(d, sub, name), path.join(d, name)]);
  for (const c of candidates) {
    if (
      await fs.stat(c).then(
        (s) => (directory ? s.isDirectory() : s.isFile()),
        () => false,
      )
    )
      return c;
  }
  throw new ModuleError(`include_vars: no ${directory ? 'folder' : 'file'} '${name}'; looked in: ${candidates.join(', ')}`);
}

async function varsFilesIn(dir: string, args: IncludeVarsArgs, level = 1): Promise<string[]> {
  const extensions = (args.extensions ?? ['yaml', 'yml', 'json']).map((e) => `.${e.replace(/^\./, '')}`);
  const matching = args.files_matching ? new RegExp(args.files_matching) : null;
  const out: string[] = [];
  const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && (!args.depth || level < args.depth)) out.push(...(await varsFilesIn(p, args, level + 1)));
    else if (e.isFile() && extensions.includes(path.extname(e.name)) && !args.ignore_files?.includes(e.name) && (!matching || matching.test(e.name))) out.push(p);
  }
  return out;
}

/** The engine's actions, by the task key that names them. */
export const engineActions: ReadonlyMap<string, Module> = new Map([meta, includeTasks, includeRole, includeVars].map((m) => [m.name, m]));
