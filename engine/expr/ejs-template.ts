// EJS templates: `<%= port %>` with the task's variables in scope.
import ejs from 'ejs';
import { findJinja } from './jinja.js';
import { TemplateError } from '../user-error.js';

export { TemplateError };

function asText(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

// Configuration files are not HTML: `<%= %>` writes values as they are. The locals are a lazy
// view of the variables (Scope.locals): ejs's default copy of them would render every variable,
// so one broken variable would break templates that never name it.
const OPTIONS = { async: false, strict: false, _with: true, rmWhitespace: false, escape: asText, unsafePrototypeLocals: true } as const;

export function renderEjs(source: string, vars: Record<string, unknown>, filename?: string): string {
  refuseJinja(source, filename);
  try {
    return ejs.render(source, vars, { ...OPTIONS, filename });
  } catch (e) {
    throw templateError(e, source, filename);
  }
}

/** Compiles a template without rendering it (--syntax-check): a TemplateError names its line. */
export function checkTemplate(source: string, filename?: string): void {
  refuseJinja(source, filename);
  try {
    ejs.compile(source, { ...OPTIONS, filename });
  } catch (e) {
    throw templateError(e, source, filename);
  }
}

function templateError(e: unknown, source: string, filename?: string): TemplateError {
  const msg = (e as Error).message;
  // ejs prefixes run-time errors with "file:line" and an excerpt; keep the line number and the reason.
  const m = /^(?:.*?):(\d+)\n[\s\S]*?\n\n([\s\S]*)$/.exec(msg);
  // Compile errors come with advice about EJS-Lint and no line: keep the reason, find the line.
  const compile = m ? null : /^([\s\S]*?) in \S+ while compiling ejs/.exec(msg);
  const line = m ? Number(m[1]) : compile ? syntaxErrorLine(source, compile[1], filename) : undefined;
  const reason = (m ? m[2] : compile ? `syntax error: ${explainSyntax(compile[1])}` : msg).trim().replace(/^(\S+) is not defined$/, "undefined variable '$1'");
  return new TemplateError(`${filename ?? 'template'}${line ? `:${line}` : ''}: ${reason}`, filename, line);
}

/** A Jinja template (`.j2`, `{% %}`, `{{ x | filter }}`) is refused: it would reach the host verbatim. */
function refuseJinja(source: string, filename?: string): void {
  const jinja = findJinja(source);
  if (jinja) {
    const line = source.slice(0, jinja.index).split('\n').length;
    throw new TemplateError(`${filename ?? 'template'}:${line}: ${jinja.hint} (found '${jinja.found.split('\n')[0]}'); templates are EJS`, filename, line);
  }
  if (filename?.endsWith('.j2')) {
    throw new TemplateError(
      `${filename}: a Jinja template (.j2): plinth templates are EJS (\`<%= x %>\` for {{ x }}, \`<% for (const x of xs) { %>\` for {% for x in xs %}); convert it and name it .ejs`,
      filename,
    );
  }
}

/** The first line at which the template's beginning fails to compile with the same error. */
function syntaxErrorLine(source: string, reason: string, filename?: string): number | undefined {
  const lines = source.split('\n');
  for (let n = 1; n <= lines.length; n++) {
    try {
      ejs.compile(lines.slice(0, n).join('\n'), { ...OPTIONS, filename });
    } catch (e) {
      if ((e as Error).message.startsWith(`${reason} in `)) return n;
    }
  }
  return undefined;
}

/** ejs wraps the template in try/catch: an unclosed `{` shows up as an unexpected 'catch'. */
function explainSyntax(reason: string): string {
  return reason === "Unexpected token 'catch'" ? "a '{' opened on this line is never closed" : reason;
}
