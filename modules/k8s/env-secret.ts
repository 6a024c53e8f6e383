// A Secret built from a .env file, like `kubectl create secret generic --from-env-file`,
// but with the file read the way users expect (see dotenv.ts) and the database URLs checked
// before anything reaches the cluster. Every value is registered as a secret.
import { ModuleError, type ArgsOf, type ModuleContext } from '../../engine/types.js';
import { findControllerFile } from '../support/controller-files.js';
import type { KubeObject } from './client.js';
import { checkPostgresUrl, parseEnvFile } from './dotenv.js';

/** The `secret_from_env` argument of k8s, as its schema declares it. */
type SecretFromEnv = ArgsOf<typeof secretFromEnvSchema>;

export const secretFromEnvSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  oneOf: [{ required: ['env_file'] }, { required: ['env_template'] }],
  'x-message': 'give exactly one of env_file or env_template',
  description: 'Build a Secret from a .env file (each KEY=value becomes a data key).',
  properties: {
    name: { type: 'string', minLength: 1, description: 'Name of the Secret.' },
    namespace: { type: 'string', description: 'Namespace of the Secret (default: the task namespace, else the context).' },
    env_file: { type: 'string', description: 'The .env file on the controller (looked up in files/ of the role, then the role or playbook directory).' },
    env_template: { type: 'string', description: 'An EJS template that renders the .env text (looked up in templates/), for values from variables.' },
    type: { type: 'string', default: 'Opaque', description: 'Secret type.' },
    labels: { type: 'object', additionalProperties: { type: 'string' }, description: 'Labels of the Secret.' },
    postgres_url_keys: {
      type: 'array',
      items: { type: 'string' },
      default: ['READ_DATABASE_URL', 'WRITE_DATABASE_URL'],
      description: 'Keys whose values must be PostgreSQL URLs (postgres://user:password@host:port/db), checked when present.',
    },
    required_keys: { type: 'array', items: { type: 'string' }, default: [], description: 'Keys the .env file must define.' },
  },
} as const;

export async function secretFromEnv(ctx: ModuleContext, spec: SecretFromEnv): Promise<KubeObject> {
  let text: string;
  let origin: string;
  if (spec.env_file !== undefined) {
    const file = await findControllerFile(ctx, 'files', spec.env_file);
    text = file.content.toString('utf8');
    origin = file.path;
  } else {
    const file = await findControllerFile(ctx, 'templates', spec.env_template as string);
    text = await ctx.renderTemplate(file.content.toString('utf8'), { filename: file.path });
    origin = `${file.path} (rendered)`;
  }
  const entries = parseEnvFile(text, origin);
  for (const { value } of entries.values()) ctx.markSecret(value);

  for (const key of spec.required_keys) if (!entries.has(key)) throw new ModuleError(`${origin}: ${key} is not defined`);
  for (const key of spec.postgres_url_keys) {
    const entry = entries.get(key);
    if (entry) checkPostgresUrl(key, entry, origin);
  }
  const data = Object.fromEntries([...entries].map(([k, e]) => [k, Buffer.from(e.value, 'utf8').toString('base64')]));
  for (const v of Object.values(data)) ctx.markSecret(v);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: spec.name, ...(spec.namespace ? { namespace: spec.namespace } : {}), ...(spec.labels ? { labels: spec.labels } : {}) },
    type: spec.type,
    data,
  };
}
