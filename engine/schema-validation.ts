// JSON Schema validation with ajv. The schemas every run uses (module arguments, playbooks,
// inventories, role meta, keyword values) are compiled at build time into plain JavaScript
// (ajv standalone code, scripts/build-validators.mjs); a schema that is not among them, or a
// build without them, is compiled here, once per process. ajv itself is loaded only then.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { besideBuild } from './paths.js';
import type { Ajv as AjvClass, ErrorObject, Options, ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);

/** Written by scripts/build-validators.mjs beside this file's build (dist/engine/): one file per validator. */
export const PRECOMPILED_DIR = 'validators';

/** The options of every validator, precompiled or not: errors must look the same either way. */
const AJV_OPTIONS: Options = { allErrors: true, strict: false, useDefaults: true, verbose: true };

/** A new ajv with plinth's options, formats and keywords (the build passes `code` options for standalone output). */
export function newAjv(extra: Options = {}): AjvClass {
  const { Ajv } = require('ajv') as { Ajv: typeof AjvClass };
  const addFormats = require('ajv-formats').default as (a: AjvClass) => void;
  const ajv = new Ajv({ ...AJV_OPTIONS, ...extra });
  addFormats(ajv);
  ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
  // Other names a field accepts, as Ansible modules declare them; the loader renames them to the field.
  ajv.addKeyword({ keyword: 'x-aliases', schemaType: 'array' });
  // What a user reads when a oneOf/anyOf/not of the same schema fails ("write only one of src and content").
  ajv.addKeyword({ keyword: 'x-message', schemaType: 'string' });
  return ajv;
}

let runtimeAjv: AjvClass | undefined;
/** The ajv that compiles at run time what the build did not. */
export function ajv(): AjvClass {
  runtimeAjv ??= newAjv();
  return runtimeAjv;
}

/** The name of a schema's precompiled validator: a digest of its content (a changed schema is compiled afresh). */
export function precompiledName(schema: Record<string, unknown>): string {
  return `v${createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 32)}`;
}

let validatorsDir: string | undefined;

function precompiledFor(schema: Record<string, unknown>): ValidateFunction | undefined {
  validatorsDir ??= besideBuild(import.meta.url, 'engine', PRECOMPILED_DIR);
  try {
    return require(path.join(validatorsDir, `${precompiledName(schema)}.cjs`)) as ValidateFunction;
  } catch (e) {
    // Not built (tsc alone, vitest running the sources) or a schema changed since: compiled at run time.
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw e;
  }
}

const compiled = new WeakMap<object, ValidateFunction>();

export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const known = compiled.get(schema);
  if (known) return known;
  const fn = precompiledFor(schema) ?? ajv().compile(schema);
  compiled.set(schema, fn);
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

const COMBINATORS = ['oneOf', 'anyOf', 'not'];

/** The `x-message` a schema gives for its failed oneOf/anyOf/not. */
function statedMessage(e: ErrorObject): string | undefined {
  const message = COMBINATORS.includes(e.keyword) ? (e.parentSchema as { 'x-message'?: unknown } | undefined)?.['x-message'] : undefined;
  return typeof message === 'string' ? message : undefined;
}

function otherBranchWentFurther(typeError: ErrorObject, errors: ErrorObject[]): boolean {
  const branch = /^(.*\/(?:oneOf|anyOf))\/(\d+)\/type$/.exec(typeError.schemaPath);
  if (!branch) return false;
  const [, choice, index] = branch;
  return errors.some((e) => {
    const other = e.schemaPath.startsWith(`${choice}/`) ? e.schemaPath.slice(choice.length + 1).split('/') : null;
    return other !== null && other[0] !== index && other[1] !== 'type';
  });
}

function simplifyErrors(errors: ErrorObject[], data: unknown): SchemaProblem[] {
  // A constraint with its own message replaces the errors of its branches.
  const explained = errors.filter((e) => statedMessage(e) !== undefined).map((e) => `${e.schemaPath}/`);
  errors = errors.filter((e) => !explained.some((p) => e.schemaPath.startsWith(p)));
  // A branch of a oneOf/anyOf whose type did not match says nothing when another branch of the
  // same choice got past its type: `name: [jq, Bad]` is a bad item, not "must be string".
  errors = errors.filter((e) => e.keyword !== 'type' || !otherBranchWentFurther(e, errors));
  // oneOf/anyOf produce one error per branch; keep the most specific (deepest) ones.
  const deepest = Math.max(...errors.map((e) => e.instancePath.split('/').length));
  const relevant = errors.filter((e) => statedMessage(e) !== undefined || !['oneOf', 'anyOf', 'if'].includes(e.keyword) || e.instancePath.split('/').length === deepest);
  const seen = new Set<string>();
  const problems: SchemaProblem[] = [];
  for (const e of relevant) {
    const path = e.instancePath
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    const field =
      e.keyword === 'additionalProperties'
        ? [...path, (e.params as { additionalProperty: string }).additionalProperty]
        : e.keyword === 'required'
          ? [...path, (e.params as { missingProperty: string }).missingProperty]
          : path;
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
  const stated = statedMessage(e);
  if (stated !== undefined) return stated;
  switch (e.keyword) {
    case 'required':
      return `missing required field '${params.missingProperty}'`;
    case 'additionalProperties':
      return `unknown field '${params.additionalProperty}'`;
    case 'type':
      return `must be ${params.type}, got ${typeof value === 'object' ? (Array.isArray(value) ? 'list' : value === null ? 'null' : 'mapping') : typeof value}`;
    case 'enum':
      return `must be one of: ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'pattern': {
      // A description written as a rule ("must be ...") is the message; any other says what the field is.
      const description = (e.parentSchema as { description?: string } | undefined)?.description;
      if (description?.startsWith('must')) return description;
      // Under propertyNames the value is the mapping; the name is what failed.
      const subject = e.propertyName ?? value;
      return `${description ? `${description}: ` : ''}${JSON.stringify(subject)} does not match ${params.pattern}`;
    }
    default:
      return e.message ?? e.keyword;
  }
}
