// template: renders an EJS file from the controller with the task's variables and writes it.
import { ModuleError, TemplateError, type Module } from '../engine/types.js';
import { attributeProperties } from './support/attributes.js';
import { findControllerFile } from './support/controller-files.js';
import { applyManagedFile, observeManagedFile, planManagedFile, type ManagedFile, type ManagedFileAction, validateProperty } from './support/managed-file.js';

interface TemplateObserved {
  file: ManagedFile;
  rendered: Buffer;
  src: string;
}

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['src', 'dest'],
  properties: {
    src: {
      type: 'string',
      minLength: 1,
      description: 'EJS template on the controller: templates/<src>, then <src>, under each playbook or role directory',
    },
    dest: { type: 'string', minLength: 1, description: 'absolute path of the file on the host' },
    backup: { type: 'boolean', default: false, description: 'keep a timestamped copy of the old file beside it' },
    validate: validateProperty,
    force: { type: 'boolean', default: true, description: 'replace a file whose content differs; false only creates missing files' },
    ...attributeProperties,
  },
} as const;

export const template: Module<typeof schema, TemplateObserved, ManagedFileAction> = {
  name: 'template',
  description: 'Render an EJS template with the task variables into a file on the host',
  schema,

  async observe(ctx, args) {
    const source = await findControllerFile(ctx, 'templates', args.src);
    let rendered: string;
    try {
      rendered = await ctx.renderTemplate(source.content.toString('utf8'), { filename: source.path });
    } catch (e) {
      // An error in the template itself (an undefined name, a syntax error) keeps its kind: check mode fails on it too.
      if (e instanceof TemplateError) throw new TemplateError(`template ${args.src}: ${e.message}`, e.file, e.line);
      throw new ModuleError(`template ${args.src}: ${(e as Error).message}`);
    }
    const file = await observeManagedFile(ctx, args.dest, { mode: args.mode, owner: args.owner, group: args.group });
    if (file.stat && file.stat.type !== 'file') throw new ModuleError(`template: ${args.dest} exists and is not a regular file`);
    return { file, rendered: Buffer.from(rendered, 'utf8'), src: source.name };
  },

  plan(observed, args) {
    const result = { dest: observed.file.path, src: observed.src };
    if (args.force === false && observed.file.stat) return { changed: false, result };
    return planManagedFile(observed.file, observed.rendered, { backup: args.backup, validate: args.validate, result });
  },

  apply: (ctx, action) => applyManagedFile(ctx, action),

  async desiredState(ctx, args) {
    const source = await findControllerFile(ctx, 'templates', args.src);
    const rendered = await ctx.renderTemplate(source.content.toString('utf8'), { filename: source.path });
    return [{ target: args.dest, before: '', after: rendered, ...(ctx.isSecret(rendered) ? { secret: true } : {}) }];
  },
};
