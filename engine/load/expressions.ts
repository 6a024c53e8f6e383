// Every expression a task, block or role reference holds is compiled when the playbook loads,
// so that a typo or Jinja syntax is found by --list-tasks, --syntax-check and before a run,
// at the file:line:col of the value that holds it. Nothing is evaluated here.
import { compileExpression, ExpressionError } from '../expr/evaluate.js';
import { findJinja } from '../expr/jinja.js';
import { isConditionKeyword } from './keywords.js';
import { SourceError, whereOfValue, type Where } from './yaml.js';

// The same `{{ }}` the renderer finds (engine/expr/scope.ts).
const EXPRESSION = /\{\{((?:(?!\}\}).)*)\}\}/gs;

/** Checks the values of a task or block mapping; `skip` names keys checked elsewhere (a block's sections). */
export function checkExpressions(raw: Record<string, unknown>, fallback: Where, skip: readonly string[] = []): void {
  for (const [key, value] of Object.entries(raw)) {
    if (skip.includes(key)) continue;
    visit(value, whereOfValue(raw, key) ?? fallback, isConditionKeyword(key));
  }
}

function visit(value: unknown, where: Where, bare: boolean): void {
  if (typeof value === 'string') {
    checkText(value, where, bare);
    return;
  }
  if (!value || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) visit(v, whereOfValue(value, Array.isArray(value) ? Number(k) : k) ?? where, bare);
}

function checkText(text: string, where: Where, bare: boolean): void {
  const wholeBare = bare && !text.trim().startsWith('{{');
  const jinja = findJinja(text, wholeBare);
  if (jinja) throw new SourceError(`${jinja.hint} (in ${JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text)})`, where);
  const expressions = wholeBare ? [text] : [...text.matchAll(EXPRESSION)].map((m) => m[1]);
  for (const e of expressions) {
    try {
      compileExpression(e);
    } catch (err) {
      if (err instanceof ExpressionError) throw new SourceError(err.message, where);
      throw err;
    }
  }
}
