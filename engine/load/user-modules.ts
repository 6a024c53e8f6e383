// Modules a playbook brings with it, as Ansible's `library/` folders: one beside the playbook,
// one inside each role. Each .js, .mjs or .ts file there holds one module: its default export is
// a Module object (name, description, schema, observe, plan, apply) named as the file, which is
// the task key. They are checked when loaded, and none may take the name of a plinth module.
import { existsSync, promises as fs } from 'node:fs';
import { register } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Module } from '../types.js';
import { compileSchema } from '../schema-validation.js';
import { engineActions } from './actions.js';
import { keywordsOn } from './keywords.js';
import { sources } from './sources.js';
import { SourceError } from './yaml.js';
import { besideBuild } from '../paths.js';

/** Modules by name: loaded, or a loader called the first time a playbook names the module. */
export type ModuleCatalog = ReadonlyMap<string, Module | (() => Promise<Module>)>;

export const LIBRARY = 'library';
const EXTENSIONS = new Set(['.js', '.mjs', '.ts', '.mts']);
const REQUIRED = ['name', 'description', 'schema', 'observe', 'plan', 'apply'];
const OPTIONAL: Record<string, 'string' | 'boolean' | 'function'> = { freeForm: 'string', readOnly: 'boolean', controllerOnly: 'boolean', desiredState: 'function' };

/** The file each user module came from: `plinth modules` shows it, and its errors name it. */
const sourceFiles = new WeakMap<Module, string>();

export function libraryFileOf(m: Module): string | undefined {
  return sourceFiles.get(m);
}

/**
 * The catalog with the modules of one library folder added (a folder that does not exist adds
 * nothing). A name already taken by a plinth module, an engine action or a task keyword is an
 * error, and so is one taken by another library's module.
 */
export async function withLibrary(catalog: ModuleCatalog, dir: string): Promise<ModuleCatalog> {
  const files = await libraryFiles(dir);
  if (files.length === 0) return catalog;
  const out = new Map(catalog);
  for (const file of files) {
    const module = await loadUserModule(file);
    const taken = out.get(module.name);
    const takenBy = taken === undefined ? undefined : typeof taken === 'function' ? 'plinth' : (sourceFiles.get(taken) ?? 'plinth');
    if (takenBy === file) continue;
    if (takenBy === 'plinth' || engineActions.has(module.name) || (keywordsOn('task') as string[]).includes(module.name)) {
      throw new SourceError(
        `module '${module.name}' has the name of plinth's own '${module.name}', which a playbook must be able to trust; give yours another name (the file's name is the task key)`,
        at(file),
      );
    }
    if (takenBy) throw new SourceError(`module '${module.name}' is also defined in ${takenBy}; a name means one module`, at(file));
    out.set(module.name, module);
  }
  return out;
}

async function libraryFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return [];
    throw new SourceError(`cannot read the module library ${dir}: ${e.code ?? e.message}`);
  });
  return entries
    .filter((e) => e.isFile() && EXTENSIONS.has(path.extname(e.name)) && !e.name.endsWith('.d.ts') && !/\.test\.m?[jt]s$/.test(e.name))
    .map((e) => path.join(dir, e.name))
    .sort();
}

async function loadUserModule(file: string): Promise<Module> {
  // A saved plan pins the module's code as it pins the playbook: apply refuses a changed module.
  sources.record(file, await fs.readFile(file));
  if (/\.m?ts$/.test(file)) registerTypeScript();
  let exported: unknown;
  try {
    exported = ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  } catch (e) {
    throw new SourceError(`cannot load the module: ${(e as Error).message ?? String(e)}`, at(file));
  }
  const module = checkModule(exported, file);
  sourceFiles.set(module, file);
  return module;
}

function checkModule(value: unknown, file: string): Module {
  if (!value || typeof value !== 'object') {
    throw new SourceError(`the default export must be a module object (${REQUIRED.join(', ')}); found ${value === undefined ? 'no default export' : typeof value}`, at(file));
  }
  const m = value as Record<string, unknown>;
  const problems: string[] = [];
  const expected = path.basename(file, path.extname(file));
  if (m.name !== expected) problems.push(`name: must be '${expected}', the file's name, which is the task key (found ${JSON.stringify(m.name)})`);
  if (typeof m.description !== 'string' || m.description.trim() === '') problems.push('description: a one-line text is required');
  problems.push(...schemaProblems(m.schema));
  for (const fn of ['observe', 'plan', 'apply']) if (typeof m[fn] !== 'function') problems.push(`${fn}: a function is required (found ${typeof m[fn]})`);
  for (const [key, type] of Object.entries(OPTIONAL)) if (m[key] !== undefined && typeof m[key] !== type) problems.push(`${key}: must be a ${type}`);
  for (const key of Object.keys(m)) {
    if (!REQUIRED.includes(key) && !(key in OPTIONAL)) problems.push(`${key}: unknown field (a module has ${REQUIRED.join(', ')}, and may have ${Object.keys(OPTIONAL).join(', ')})`);
  }
  if (problems.length) throw new SourceError(`not a plinth module:\n  ${problems.join('\n  ')}`, at(file));
  return m as unknown as Module;
}

function schemaProblems(schema: unknown): string[] {
  if (!schema || typeof schema !== 'object' || (schema as Record<string, unknown>).type !== 'object') {
    return ["schema: a JSON Schema of the arguments with type: 'object' is required"];
  }
  try {
    compileSchema(schema as Record<string, unknown>);
    return [];
  } catch (e) {
    return [`schema: ${(e as Error).message}`];
  }
}

function at(file: string) {
  return { file, line: 1, col: 1 };
}

let typeScriptHooks = false;

/** Lets node import .ts files from here on (see typescript-hooks.ts). */
function registerTypeScript(): void {
  if (typeScriptHooks) return;
  typeScriptHooks = true;
  const hooks = besideBuild(import.meta.url, 'engine/load', 'typescript-hooks.js');
  // Run from the sources (vitest), the test runner compiles TypeScript itself.
  if (existsSync(hooks)) register(pathToFileURL(hooks));
}
