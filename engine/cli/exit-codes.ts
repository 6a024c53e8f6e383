// Exit codes as ansible-playbook documents them.
import { UserError } from '../user-error.js';
export const ExitCode = {
  Ok: 0,
  Error: 1,
  HostFailed: 2,
  HostUnreachable: 3,
  ParseError: 4,
  BadOptions: 5,
  Interrupted: 99,
} as const;

/** A flag or argument the user got wrong: exit 5. */
export class UsageError extends UserError {}
