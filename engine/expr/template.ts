// EJS templates: `<%= port %>` with the task's variables in scope.
import ejs from 'ejs';

export class TemplateError extends Error {
  constructor(message: string, readonly file?: string, readonly line?: number) {
    super(message);
    this.name = 'TemplateError';
  }
}

function asText(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

// Configuration files are not HTML: `<%= %>` writes values as they are.
const OPTIONS = { async: false, strict: false, _with: true, rmWhitespace: false, escape: asText } as const;

export function renderEjs(source: string, vars: Record<string, unknown>, filename?: string): string {
  try {
    return ejs.render(source, vars, { ...OPTIONS, filename });
  } catch (e) {
    const msg = (e as Error).message;
    // ejs prefixes run-time errors with "file:line" and an excerpt; keep the line number and the reason.
    const m = /^(?:.*?):(\d+)\n[\s\S]*?\n\n([\s\S]*)$/.exec(msg);
    // Compile errors come with advice about EJS-Lint and no line: keep the reason, find the line.
    const compile = m ? null : /^([\s\S]*?) in \S+ while compiling ejs/.exec(msg);
    const line = m ? Number(m[1]) : compile ? syntaxErrorLine(source, compile[1], filename) : undefined;
    const reason = (m ? m[2] : compile ? `syntax error: ${explainSyntax(compile[1])}` : msg).trim().replace(/^(\S+) is not defined$/, "undefined variable '$1'");
    throw new TemplateError(`${filename ?? 'template'}${line ? `:${line}` : ''}: ${reason}`, filename, line);
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
