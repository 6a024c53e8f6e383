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

/** The private key is encrypted and no passphrase was given: the caller may prompt and retry. */
export class EncryptedKeyError extends UnreachableError {
  constructor(
    readonly keyPath: string,
    hostName: string,
  ) {
    super(
      `${hostName}: the private key ${keyPath} is encrypted and no passphrase was given; ` +
        'set ansible_ssh_private_key_passphrase (a variable marked secret), load the key into ssh-agent, ' +
        'or run from a terminal to be asked for it',
    );
    this.name = 'EncryptedKeyError';
  }
}
