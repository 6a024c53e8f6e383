// command: runs a program with arguments, without a shell.
import { ModuleError, type ArgsOf, type Module } from '../engine/types.js';
import { splitWords } from './support/words.js';
import { commandOptionProperties, observeCommand, planCommand, runCommand, type CommandAction, type CommandObserved } from './support/command-and-shell.js';

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  oneOf: [{ required: ['cmd'] }, { required: ['argv'] }],
  'x-message': 'write either cmd or argv (one of them, not both)',
  properties: {
    cmd: { type: 'string', minLength: 1, description: 'the command line, split into words like a shell would but never run by one' },
    argv: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'the command as a list of words (instead of cmd)' },
    ...commandOptionProperties,
  },
} as const;

function argvOf(args: ArgsOf<typeof schema>): string[] {
  const argv = args.argv ?? splitWords(args.cmd ?? '');
  if (!argv.length) throw new ModuleError('command: no command given');
  return argv;
}

export const command: Module<typeof schema, CommandObserved, CommandAction> = {
  name: 'command',
  description: 'Run a command on the host, without a shell',
  schema,
  freeForm: 'cmd',

  async observe(ctx, args) {
    argvOf(args);
    return observeCommand(ctx, args);
  },

  plan: (observed, args) => planCommand(observed, argvOf(args), args.argv ?? args.cmd),

  apply: (ctx, action, args) => runCommand(ctx, action.argv, args),
};
