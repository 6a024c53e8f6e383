// Every failure of the lab is a LabError whose message tells the user what to do next.
// The CLI prints the message (no stack trace) and sets the exit code.
import { UserError } from '../engine/user-error.js';

export class LabError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

/** Where the lab reports what it is doing; the CLI prints these lines to stderr. */
export type Progress = (line: string) => void;

export const quiet: Progress = () => {};
