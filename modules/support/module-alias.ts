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
}

export function moduleAlias<Args, BaseArgs>(base: Module<BaseArgs>, spec: AliasSpec<Args, BaseArgs>): Module<Args> {
  return {
    name: spec.name,
    description: spec.description,
    schema: spec.schema,
    readOnly: base.readOnly,
    async observe(ctx, args) {
      spec.checkHost?.(ctx, args);
      return base.observe(ctx, spec.toBase(args));
    },
    plan: (observed, args, ctx) => base.plan(observed, spec.toBase(args), ctx),
    apply: (ctx, action, args) => base.apply(ctx, action, spec.toBase(args)),
  };
}
