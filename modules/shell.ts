// shell: runs a script through the host's /bin/sh (pipes, redirections, variables).
import type { Module } from '../engine/types.js';
import { commandOptionProperties, observeCommand, planCommand, runCommand, type CommandAction, type CommandObserved } from './support/command-and-shell.js';

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['cmd'],
  properties: {
    cmd: { type: 'string', minLength: 1, description: 'the shell script to run' },
    executable: { type: 'string', minLength: 1, description: 'shell to run it with instead of /bin/sh (e.g. /bin/bash); called as <executable> -c <cmd>' },
    ...commandOptionProperties,
  },
} as const;

export const shell: Module<typeof schema, CommandObserved, CommandAction> = {
  name: 'shell',
  description: 'Run a shell script on the host through /bin/sh',
  schema,
  freeForm: 'cmd',

  observe: (ctx, args) => observeCommand(ctx, args),

  plan: (observed, args) => planCommand(observed, [args.executable ?? '/bin/sh', '-c', args.cmd], args.cmd),

  apply: (ctx, action, args) => runCommand(ctx, action.argv, args),
};
