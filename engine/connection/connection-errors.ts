import { UserError } from '../user-error.js';
/** The host could not be reached or the connection dropped: the host is reported unreachable. */
export class UnreachableError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'UnreachableError';
  }
}

/** A command or transfer ran past its timeout and was stopped. */
export class TimeoutError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}
