// Builds the ModuleContext a module runs with.
import type { Host, ModuleContext } from '../types.js';
import { renderEjs } from '../expr/ejs-template.js';
import { redactor } from '../secrets/redact.js';
import { sources } from '../load/sources.js';
import { evaluateWithVars } from '../expr/evaluate.js';

export interface ContextOptions {
  host: Host;
  check: boolean;
  vars?: Record<string, unknown>;
  become?: { become: boolean; becomeUser?: string };
  baseDirs?: string[];
  facts?: Record<string, unknown>;
  log?: (line: string) => void;
  evaluate?: (expression: string) => unknown;
}

export function makeModuleContext(o: ContextOptions): ModuleContext {
  const vars = o.vars ?? {};
  return {
    host: o.host,
    check: o.check,
    become: o.become ?? { become: false },
    baseDirs: o.baseDirs ?? [process.cwd()],
    vars,
    facts: o.facts ?? {},
    evaluate: o.evaluate ?? ((expression) => evaluateWithVars(expression, vars)),
    renderTemplate: async (source, opts) => renderEjs(source, vars, opts?.filename),
    markSecret: (value) => redactor.add(value),
    isSecret: (text) => redactor.holdsSecret(text),
    controllerFiles: sources,
    log: (line) => o.log?.(redactor.redact(line)),
  };
}
