// deb822_repository: an apt source in deb822 form (/etc/apt/sources.list.d/<name>.sources),
// with its key given by path, inline (embedded in Signed-By) or by URL (fetched once into
// /etc/apt/keyrings/<name>.asc with apt's own downloader), as Ansible's module writes it. Like Ansible's, it does not
// refresh the package lists: follow it with apt: update_cache=yes.
import type { ArgsOf, Module } from '../engine/types.js';
import { applyManagedFile, observeManagedFile, planManagedFile, type ManagedFile, type ManagedFileAction } from './support/managed-file.js';
import { modeSchema } from './support/attributes.js';
import { execOrFail } from './support/host-commands.js';
import { planSourceFileRemoval, removeSourceFile } from './support/apt-sources.js';

interface Observed {
  file: ManagedFile;
  /** A key URL still to fetch into this path. */
  fetchKey?: { url: string; path: string };
}

interface Deb822Action {
  file?: ManagedFileAction;
  remove?: string;
  fetchKey?: Observed['fetchKey'];
}

type Deb822Args = ArgsOf<typeof schema>;

const list = {
  oneOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
  ],
} as const;

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  anyOf: [{ required: ['state'], properties: { state: { const: 'absent' } } }, { required: ['uris', 'suites'] }],
  'x-message': 'uris and suites are required with state present',
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$', description: 'the repository’s name: the file is /etc/apt/sources.list.d/<name>.sources' },
    types: { ...list, default: ['deb'], description: 'deb and/or deb-src' },
    uris: { ...list, description: 'repository URL(s), e.g. https://apt.postgresql.org/pub/repos/apt (required with state present)' },
    suites: { ...list, description: 'e.g. bookworm-pgdg (required with state present)' },
    components: { ...list, description: 'e.g. main' },
    architectures: { ...list, description: 'e.g. amd64' },
    signed_by: { type: 'string', minLength: 1, description: 'the key: a path on the host, an armored key (embedded in the file), or a URL (fetched once to /etc/apt/keyrings/<name>.asc)' },
    enabled: { type: 'boolean', description: 'Enabled: yes/no' },
    trusted: { type: 'boolean', description: 'Trusted: yes/no (skips signature checks; avoid)' },
    state: { enum: ['present', 'absent'], default: 'present', description: 'whether the source file should exist' },
    mode: { ...modeSchema, default: '0644' },
  },
} as const;

const words = (v: string | string[] | undefined) => (v === undefined ? undefined : (Array.isArray(v) ? v : v.split(/[\s,]+/)).filter(Boolean).join(' '));
const yesNo = (v: boolean) => (v ? 'yes' : 'no');

export function keyPath(name: string): string {
  return `/etc/apt/keyrings/${name}.asc`;
}

/** The .sources file Ansible's module writes for these arguments. */
export function deb822Content(args: Deb822Args): string {
  const fields: [string, string | undefined][] = [
    ['X-Repolib-Name', args.name],
    ['Types', words(args.types)],
    ['URIs', words(args.uris)],
    ['Suites', words(args.suites)],
    ['Components', words(args.components)],
    ['Architectures', words(args.architectures)],
    ['Enabled', args.enabled === undefined ? undefined : yesNo(args.enabled)],
    ['Trusted', args.trusted === undefined ? undefined : yesNo(args.trusted)],
    ['Signed-By', signedBy(args)],
  ];
  return (
    fields
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n')
      .replace(/: \n/g, ':\n') + '\n'
  );
}

function signedBy(args: Deb822Args): string | undefined {
  const key = args.signed_by?.trim();
  if (!key) return undefined;
  if (/^https?:\/\//.test(key)) return keyPath(args.name);
  if (key.startsWith('-----BEGIN')) {
    // An embedded key: a multi-line field, each line indented, empty lines as " .".
    return (
      '\n' +
      key
        .split('\n')
        .map((l) => (l.trim() === '' ? ' .' : ` ${l}`))
        .join('\n')
    );
  }
  return key;
}

export const deb822_repository: Module<typeof schema, Observed, Deb822Action> = {
  name: 'deb822_repository',
  description: 'Add or remove an apt source in deb822 form, with its signing key',
  schema,

  async observe(ctx, args) {
    const file = await observeManagedFile(ctx, `/etc/apt/sources.list.d/${args.name}.sources`, { mode: args.mode });
    const url = args.signed_by?.trim();
    const needsKey = args.state !== 'absent' && url && /^https?:\/\//.test(url) && !(await ctx.host.stat(keyPath(args.name), { ...ctx.become }));
    return { file, ...(needsKey ? { fetchKey: { url: url!, path: keyPath(args.name) } } : {}) };
  },

  plan({ file, fetchKey }, args) {
    const result = { repo: file.path, state: args.state, ...(fetchKey ? { key_filename: fetchKey.path } : {}) };
    if (args.state === 'absent') {
      if (!file.stat) return { changed: false, summary: `${file.path} absent`, result };
      return planSourceFileRemoval(file, `remove ${file.path}`, { remove: file.path }, result);
    }
    const plan = planManagedFile(file, Buffer.from(deb822Content(args)), { makeParents: true, result });
    if ('unknown' in plan) return plan;
    if (!plan.changed && !fetchKey) return plan;
    const fileAction = plan.changed ? plan.action : undefined;
    const summary = [fetchKey ? `fetch key ${fetchKey.url} to ${fetchKey.path}` : '', plan.changed ? plan.summary : ''].filter(Boolean).join(', ');
    return { changed: true, summary, diffs: plan.changed ? plan.diffs : [], writes: plan.changed ? plan.writes : undefined, action: { file: fileAction, fetchKey }, result };
  },

  async apply(ctx, action) {
    if (action.remove) {
      await removeSourceFile(ctx, action.remove);
      return {};
    }
    if (action.fetchKey) {
      const { url, path } = action.fetchKey;
      await execOrFail(ctx, ['install', '-d', '-m', '0755', '/etc/apt/keyrings'], 'cannot create /etc/apt/keyrings');
      // apt's own downloader: there wherever apt is, and it uses apt's proxy settings.
      await execOrFail(ctx, ['/usr/lib/apt/apt-helper', 'download-file', url, `${path}.tmp`], `cannot fetch the key ${url}`);
      await execOrFail(ctx, ['mv', '-f', '--', `${path}.tmp`, path], `cannot move the key to ${path}`);
      await execOrFail(ctx, ['chmod', '0644', path], `cannot set the mode of ${path}`);
    }
    return action.file ? applyManagedFile(ctx, action.file) : {};
  },
};
