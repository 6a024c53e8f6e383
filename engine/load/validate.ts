// JSON Schema validation with ajv: one instance, each schema compiled once and cached.
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const Ajv = AjvModule.default ?? AjvModule;
const addFormats = addFormatsModule.default ?? addFormatsModule;

export const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, verbose: true });
addFormats(ajv);
ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });

const compiled = new WeakMap<object, ValidateFunction>();

export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

export interface SchemaProblem {
  /** Path of the offending value, as keys: ['tasks', 0, 'mode']. */
  path: (string | number)[];
  message: string;
}

/** Validates data; returns readable problems (empty when valid). Defaults from the schema are filled in. */
export function validateAgainst(schema: Record<string, unknown>, data: unknown): SchemaProblem[] {
  const fn = compileSchema(schema);
  if (fn(data)) return [];
  return simplifyErrors(fn.errors ?? [], data);
}

function simplifyErrors(errors: ErrorObject[], data: unknown): SchemaProblem[] {
  // oneOf/anyOf produce one error per branch; keep the most specific (deepest) ones.
  const deepest = Math.max(...errors.map((e) => e.instancePath.split('/').length));
  const relevant = errors.filter(
    (e) => !['oneOf', 'anyOf', 'if'].includes(e.keyword) || e.instancePath.split('/').length === deepest,
  );
  const seen = new Set<string>();
  const problems: SchemaProblem[] = [];
  for (const e of relevant) {
    const path = e.instancePath
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    const field = e.keyword === 'additionalProperties' ? [...path, (e.params as { additionalProperty: string }).additionalProperty] : e.keyword === 'required' ? [...path, (e.params as { missingProperty: string }).missingProperty] : path;
    const message = describe(e, valueAt(data, path));
    const key = `${field.join('.')}:${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ path: field, message });
  }
  return problems;
}

function valueAt(data: unknown, path: (string | number)[]): unknown {
  let v: unknown = data;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined;
  return v;
}

function describe(e: ErrorObject, value: unknown): string {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `missing required field '${params.missingProperty}'`;
    case 'additionalProperties':
      return `unknown field '${params.additionalProperty}'`;
    case 'type':
      return `must be ${params.type}, got ${typeof value === 'object' ? (Array.isArray(value) ? 'list' : value === null ? 'null' : 'mapping') : typeof value}`;
    case 'enum':
      return `must be one of: ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'pattern':
      return `${e.parentSchema && (e.parentSchema as { description?: string }).description ? (e.parentSchema as { description: string }).description : `must match ${params.pattern}`}`;
    default:
      return e.message ?? e.keyword;
  }
}
