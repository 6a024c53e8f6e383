// Where a manifest comes from (inline `definition`, a YAML `src` file, or an EJS `template`)
// and its offline validation: a problem names file:line for files, the field path otherwise.
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { ModuleError, type ModuleContext } from '../../engine/types.js';
import { validateAgainst, type SchemaProblem } from '../../engine/schema-validation.js';
import { findControllerFile } from '../support/controller-files.js';
import type { KubeObject } from './client.js';
import { schemaFor } from './kind-schemas.js';

interface ManifestSource {
  definition?: Record<string, unknown>;
  src?: string;
  template?: string;
}

interface LoadedManifest {
  object: KubeObject;
  /** "roles/k8s-app/files/ns.yaml", "deploy.yaml.ejs (rendered)" or "definition". */
  origin: string;
  /** Where a field (keys and indexes) is written: "file:line" for files, "definition.a.b" inline. */
  locate(path: (string | number)[]): string;
}

/** Loads and validates the manifest of a task (its schema lets only one source be given). */
export async function loadManifest(ctx: ModuleContext, source: ManifestSource): Promise<LoadedManifest> {
  if (source.definition !== undefined) {
    const object = structuredClone(source.definition);
    const locate = (path: (string | number)[]) => ['definition', ...path].join('.');
    report(validateObject(object), (p) => locate(p.path));
    return { object: object as KubeObject, origin: 'definition', locate };
  }
  if (source.src !== undefined) {
    const file = await findControllerFile(ctx, 'files', source.src);
    return parseManifest(file.content.toString('utf8'), file.path);
  }
  const file = await findControllerFile(ctx, 'templates', source.template as string);
  const text = await ctx.renderTemplate(file.content.toString('utf8'), { filename: file.path });
  return parseManifest(text, `${file.path} (rendered)`);
}

/** Parses YAML text holding one object and validates it, with file:line in every error. */
export function parseManifest(text: string, origin: string): LoadedManifest {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines });
  if (!Array.isArray(docs)) throw new ModuleError(`${origin}: not a YAML document`);
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) throw new ModuleError(`${origin}:${err.linePos?.[0].line ?? '?'}: ${err.message.split('\n')[0]}`);
  }
  const nonEmpty = docs.filter((d) => d.contents !== null);
  if (nonEmpty.length !== 1) {
    throw new ModuleError(`${origin}: holds ${nonEmpty.length} YAML documents; the k8s module manages one object per task`);
  }
  const doc = nonEmpty[0];
  const object = doc.toJS() as unknown;
  const locate = (path: (string | number)[]) => `${origin}:${lineOf(doc, lines, path)}`;
  report(validateObject(object), (p) => `${locate(p.path)}: ${p.path.join('.')}`);
  return { object: object as KubeObject, origin, locate };
}

function validateObject(object: unknown): SchemaProblem[] {
  if (!object || typeof object !== 'object' || Array.isArray(object)) return [{ path: [], message: 'must be a mapping (a Kubernetes object)' }];
  const o = object as Record<string, unknown>;
  return validateAgainst(schemaFor(o.apiVersion, o.kind), object);
}

function report(problems: SchemaProblem[], where: (p: SchemaProblem) => string): void {
  if (!problems.length) return;
  const lines = problems.map((p) => `${where(p)}: ${p.message}`);
  throw new ModuleError(`invalid Kubernetes manifest:\n  ${lines.join('\n  ')}`);
}

/** The line of the node at `path`, or of its nearest existing parent (for a missing field). */
function lineOf(doc: Document, lines: LineCounter, path: (string | number)[]): number {
  for (let n = path.length; n >= 0; n--) {
    const range = keyRange(doc, path.slice(0, n)) ?? nodeRange(n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true));
    if (range) return lines.linePos(range[0]).line;
  }
  return 1;
}

type Ranged = { range?: [number, number, number] | null } | null | undefined;

function nodeRange(node: unknown): [number, number, number] | undefined {
  return (node as Ranged)?.range ?? undefined;
}

/** The range of the key of the last path element, so that "unknown field x" points at x. */
function keyRange(doc: Document, path: (string | number)[]): [number, number, number] | undefined {
  if (!path.length) return undefined;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const items = (parent as { items?: { key?: { value?: unknown } & Ranged }[] } | null)?.items;
  const pair = items?.find((p) => p && typeof p === 'object' && 'key' in p && p.key?.value === path[path.length - 1]);
  return nodeRange(pair?.key);
}
