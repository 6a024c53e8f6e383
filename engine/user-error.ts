// What a user must fix: a file they wrote, a flag, a value, a host they named. The CLI prints
// its message and no stack. Any other error that reaches the CLI is a bug in plinth, printed
// with its stack. Every error class a user may see extends this one.

export interface UserErrorOrigin {
  /** The file the user must edit (a playbook, an inventory, a template, a plan). */
  file?: string;
  line?: number;
  col?: number;
  /** The field (argument, keyword, variable) that holds the wrong value. */
  field?: string;
}

export class UserError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
  readonly field?: string;

  constructor(message: string, origin: UserErrorOrigin = {}) {
    super(message);
    this.name = new.target.name;
    this.file = origin.file;
    this.line = origin.line;
    this.col = origin.col;
    this.field = origin.field;
  }
}

/** A template that cannot be rendered: an undefined name, a syntax error, Jinja in an EJS file. */
export class TemplateError extends UserError {
  constructor(message: string, file?: string, line?: number) {
    super(message, { file, line });
  }
}
