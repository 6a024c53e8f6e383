// Expressions are JavaScript over the variables. Names that are not variables and not
// JavaScript globals are an UndefinedVariableError naming the variable.
import { UserError } from '../user-error.js';

export class UndefinedVariableError extends UserError {
  constructor(
    readonly variable: string,
    readonly expression: string,
  ) {
    super(`undefined variable '${variable}' in expression: ${expression}`);
    this.name = 'UndefinedVariableError';
  }
}

export class ExpressionError extends UserError {
  constructor(
    message: string,
    readonly expression: string,
  ) {
    super(message);
    this.name = 'ExpressionError';
  }
}

const GLOBALS = new Set([
  'Math',
  'JSON',
  'String',
  'Number',
  'Boolean',
  'Array',
  'Object',
  'Date',
  'RegExp',
  'parseInt',
  'parseFloat',
  'isNaN',
  'isFinite',
  'encodeURIComponent',
  'decodeURIComponent',
  'undefined',
  'NaN',
  'Infinity',
  'Buffer',
  'Set',
  'Map',
  'Symbol',
]);

const compiled = new Map<string, (scope: object) => unknown>();

/** Compiles without running: an ExpressionError for what is not a JavaScript expression. */
export function compileExpression(expression: string): void {
  compile(expression);
}

function compile(expression: string): (scope: object) => unknown {
  let fn = compiled.get(expression);
  if (!fn) {
    try {
      // `with` needs sloppy mode, which Function bodies have unless they say otherwise.
      fn = new Function('__scope', `with (__scope) { return (${expression}\n); }`) as (scope: object) => unknown;
    } catch (e) {
      throw new ExpressionError(`invalid expression: ${(e as Error).message}: ${expression}`, expression);
    }
    compiled.set(expression, fn);
  }
  return fn;
}

/**
 * Evaluates `expression` with `lookup` resolving variable names. lookup returns
 * `{ found: false }` for names it does not know.
 */
export function evaluateExpression(expression: string, lookup: (name: string) => { found: boolean; value?: unknown }): unknown {
  const fn = compile(expression);
  const scope = new Proxy(Object.create(null), {
    has: (_t, key) => typeof key === 'string' && !GLOBALS.has(key),
    get: (_t, key) => {
      if (key === Symbol.unscopables) return undefined;
      if (typeof key !== 'string') return undefined;
      const r = lookup(key);
      if (!r.found) throw new UndefinedVariableError(key, expression.trim());
      return r.value;
    },
  });
  try {
    return fn(scope);
  } catch (e) {
    if (e instanceof UndefinedVariableError) throw e;
    throw new ExpressionError(`${(e as Error).message} in expression: ${expression.trim()}`, expression);
  }
}

/** Evaluates over a plain object of variables. */
export function evaluateWithVars(expression: string, vars: Record<string, unknown>): unknown {
  return evaluateExpression(expression, (name) => (Object.hasOwn(vars, name) ? { found: true, value: vars[name] } : { found: false }));
}
