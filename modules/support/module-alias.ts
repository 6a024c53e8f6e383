// A module under Ansible's name for a plinth module (package → apt, service → systemd,
// community.postgresql's postgresql_user → postgres_role): its own schema, and its arguments
// turned into the plinth module's before observe, plan and apply.
import type { Module, ModuleContext } from '../../engine/types.js';

export interface AliasSpec<Args, BaseArgs> {
  name: string;
  description: string;
  schema: Record<string, unknown>;
  /** The plinth module's arguments (throw a ModuleError for what it cannot express). */
  toBase(args: Args): BaseArgs;
  /** Refuses a host the base module cannot serve (a package manager other than apt, ...). */
  checkHost?(ctx: ModuleContext, args: Args): void;
  /** Adds the result fields the Ansible module returns (query_result beside rows, ...). */
  result?(result: Record<string, unknown>, args: Args): Record<string, unknown>;
}

export function moduleAlias<Args, BaseArgs>(base: Module<BaseArgs>, spec: AliasSpec<Args, BaseArgs>): Module<Args> {
  const toBase = (args: Args) => withDefaults(base.schema, spec.toBase(args));
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
function withDefaults<BaseArgs>(schema: Record<string, unknown>, args: BaseArgs): BaseArgs {
  const properties = (schema.properties ?? {}) as Record<string, { default?: unknown }>;
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(properties)) {
    const value = (args as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
    else if (spec.default !== undefined) out[key] = structuredClone(spec.default);
  }
  return out as BaseArgs;
}
