// `plinth modules [name]`: what each module does and its arguments, from its JSON Schema: plinth's
// own and those of a playbook's library/ (./library, or the folders given with --library).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { allModules, moduleLoaders } from '../../modules/index.js';
import { LIBRARY, libraryFileOf, withLibrary, type ModuleCatalog } from '../load/user-modules.js';
import type { Module } from '../types.js';
import { publishedSchemas } from '../load/published-schemas.js';
import { UsageError } from './exit-codes.js';

export async function describeModules(name: string | undefined, asSchema: boolean, libraries: string[] = [LIBRARY]): Promise<string> {
  const modules = await withUserModules(libraries);
  if (!name) {
    const width = Math.max(...[...modules.keys()].map((n) => n.length));
    return [...modules.values()].map((m) => `${m.name.padEnd(width)}  ${m.description.split('\n')[0]}${origin(m)}`).join('\n') + '\n';
  }
  const m = modules.get(name);
  if (!m) throw new UsageError(`no module named '${name}'; \`plinth modules\` lists them`);
  if (asSchema) return JSON.stringify(m.schema, null, 2) + '\n';
  const props = (m.schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((m.schema.required as string[] | undefined) ?? []);
  const lines = [`${m.name}: ${m.description}${origin(m)}`, '', 'Arguments:'];
  for (const [k, p] of Object.entries(props)) {
    const type = p.enum ? (p.enum as unknown[]).join('|') : Array.isArray(p.type) ? p.type.join('|') : ((p.type as string | undefined) ?? 'any');
    const flags = [required.has(k) ? 'required' : '', p['x-secret'] ? 'secret' : '', p.default !== undefined ? `default ${JSON.stringify(p.default)}` : ''].filter(Boolean).join(', ');
    lines.push(`  ${k} (${type}${flags ? `; ${flags}` : ''})${p.description ? `: ${p.description}` : ''}`);
  }
  if (m.freeForm) lines.push('', `A string value is taken as '${m.freeForm}' (e.g. \`${m.name}: ...\`).`);
  return lines.join('\n') + '\n';
}

/** plinth's modules, then those of the library folders, by name. */
async function withUserModules(libraries: string[]): Promise<Map<string, Module>> {
  let catalog: ModuleCatalog = moduleLoaders;
  for (const dir of libraries) catalog = await withLibrary(catalog, path.resolve(dir));
  const modules = new Map(await allModules());
  for (const [name, m] of catalog) if (typeof m !== 'function') modules.set(name, m);
  return modules;
}

function origin(m: Module): string {
  const file = libraryFileOf(m);
  return file ? ` (${path.relative(process.cwd(), file)})` : '';
}

/** Writes schemas/*.json; returns the list of files written. */
export async function writeSchemas(dir: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, schema] of Object.entries(publishedSchemas(await allModules()))) {
    const file = path.join(dir, name);
    await fs.writeFile(file, JSON.stringify(schema, null, 2) + '\n');
    written.push(file);
  }
  return written.join('\n') + '\n';
}
