// The one way plinth quotes a command for a POSIX shell on a host.

const SAFE = /^[A-Za-z0-9_/.,:=@%+-]+$/;

/** Quotes one argument for sh: safe words stay as they are, the rest go in single quotes. */
export function quoteArg(arg: string): string {
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Joins an argv into one sh command line. */
export function quoteArgv(argv: string[]): string {
  return argv.map(quoteArg).join(' ');
}
