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

export function renderEjs(source: string, vars: Record<string, unknown>, filename?: string): string {
  try {
    // Configuration files are not HTML: `<%= %>` writes values as they are.
    return ejs.render(source, vars, { filename, async: false, strict: false, _with: true, rmWhitespace: false, escape: asText });
  } catch (e) {
    const msg = (e as Error).message;
    // ejs prefixes messages with "file:line" and an excerpt; keep the line number and the reason.
    const m = /^(?:.*?):(\d+)\n[\s\S]*?\n\n([\s\S]*)$/.exec(msg);
    const line = m ? Number(m[1]) : undefined;
    const reason = (m ? m[2] : msg).trim();
    throw new TemplateError(`${filename ?? 'template'}${line ? `:${line}` : ''}: ${reason}`, filename, line);
  }
}
