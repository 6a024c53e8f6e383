// Runs one module the way the engine does (validate → observe → plan → apply), on the local connection.
import { LocalHost } from '../../engine/connection/local.js';
import { PredictedHost } from '../../engine/connection/predicted.js';
import { makeModuleContext } from '../../engine/run/context.js';
import { runModule, type ModuleOutcome } from '../../engine/run/run-module.js';
import { validateAgainst } from '../../engine/schema-validation.js';
import type { Host, Module } from '../../engine/types.js';

export const localHost = new LocalHost('localhost');

export interface RunOptions {
  check?: boolean;
  vars?: Record<string, unknown>;
  host?: Host;
  baseDirs?: string[];
  become?: { become: boolean; becomeUser?: string };
}

/** Validates args against the module's schema (throws with the problems) and runs it once. */
export async function run(mod: Module, args: Record<string, unknown>, o: RunOptions = {}): Promise<ModuleOutcome> {
  const copy = structuredClone(args);
  const problems = validateAgainst(mod.schema, copy);
  if (problems.length) throw new Error(problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; '));
  const base = o.host ?? localHost;
  const host = o.check ? (base instanceof PredictedHost ? base : new PredictedHost(base)) : base;
  const ctx = makeModuleContext({ host, check: !!o.check, vars: o.vars, baseDirs: o.baseDirs, become: o.become });
  return runModule(mod, copy, ctx, { check: !!o.check });
}

/** Check mode, then a real run, then a second real run: the common idempotence pattern. */
export async function checkApplyAgain(mod: Module, args: Record<string, unknown>, o: RunOptions = {}) {
  const check = await run(mod, args, { ...o, check: true });
  const first = await run(mod, args, o);
  const second = await run(mod, args, o);
  return { check, first, second };
}

/** Problems the schema finds in args (empty when valid). */
export function schemaProblems(mod: Module, args: Record<string, unknown>) {
  return validateAgainst(mod.schema, structuredClone(args));
}
