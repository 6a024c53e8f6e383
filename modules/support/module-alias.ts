// A module under Ansible's name for a plinth module (package → apt, service → systemd,
// community.postgresql's postgresql_user → postgres_role): its own schema, and its arguments
// turned into the plinth module's before observe, plan and apply.
import type { ArgsOf, InputOf, Module, ModuleContext, ModuleSchema } from '../../engine/types.js';

/** An alias whose schema borrows fields from a module not converted yet is typed by its toBase (issue 15 removes this). */
type AliasArgs<Schema> = Schema extends ModuleSchema ? (unknown extends ArgsOf<Schema> ? any : ArgsOf<Schema>) : any;

interface AliasSpec<Schema, BaseSchema> {
  name: string;
  description: string;
  schema: Schema;
  /** The plinth module's arguments (throw a ModuleError for what it cannot express). */
  toBase(args: AliasArgs<Schema>): InputOf<BaseSchema>;
  /** Refuses a host the base module cannot serve (a package manager other than apt, ...). */
  checkHost?(ctx: ModuleContext, args: AliasArgs<Schema>): void;
  /** Adds the result fields the Ansible module returns (query_result beside rows, ...). */
  result?(result: Record<string, unknown>, args: AliasArgs<Schema>): Record<string, unknown>;
}

export function moduleAlias<Schema, BaseSchema>(base: Module<BaseSchema>, spec: AliasSpec<Schema, BaseSchema>): Module<Schema> {
  return aliasOf(base as Module, spec as AliasSpec<any, any>);
}

/** Untyped inside: the types of both schemas are checked where moduleAlias is called. */
function aliasOf(base: Module, spec: AliasSpec<any, any>): Module {
  const toBase = (args: unknown) => withDefaults(base.schema, spec.toBase(args));
  return {
    name: spec.name,
    description: spec.description,
    schema: spec.schema,
    readOnly: base.readOnly,
    async observe(ctx, args) {
      spec.checkHost?.(ctx, args);
      return base.observe(ctx, toBase(args));
    },
    async plan(observed, args, ctx) {
      const plan = await base.plan(observed, toBase(args), ctx);
      return spec.result && !('unknown' in plan) ? { ...plan, result: spec.result(plan.result ?? {}, args) } : plan;
    },
    async apply(ctx, action, args) {
      const applied = await base.apply(ctx, action, toBase(args));
      return spec.result ? { ...applied, result: spec.result(applied.result ?? {}, args) } : applied;
    },
  };
}

/**
 * The base module's arguments as validation would hand them over: only the fields its schema
 * declares, and its defaults for the fields not given.
 */
function withDefaults(schema: Record<string, unknown>, args: unknown): unknown {
  const properties = (schema.properties ?? {}) as Record<string, { default?: unknown }>;
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(properties)) {
    const value = (args as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
    else if (spec.default !== undefined) out[key] = structuredClone(spec.default);
  }
  return out;
}
