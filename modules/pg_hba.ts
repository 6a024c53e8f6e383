// pg_hba: ensures or removes client authentication rules in a marked block of pg_hba.conf
// (see postgres/hba.ts for where the block goes and why). Lines outside the block are never
// touched. When the server runs and reads this file, the new file is checked with
// pg_hba_file_rules; on an error the old file is restored and the task fails.
import { ModuleError, type Module, type ModuleContext, type ArgsOf } from '../engine/types.js';
import { clusterProperties, resolveCluster, targetOf } from './postgres/cluster.js';
import { hbaFieldProperties, mergeEntries, parseHbaFile, renderHbaFile, validateEntry } from './postgres/hba.js';
import { asJsonRows, parseJsonRows, queryRowsIfRunning, runSql, ServerUnavailableError } from './postgres/sql.js';

type HbaArgs = ArgsOf<typeof schema>;

type Observed = { unknown: string } | { path: string; content: string };

interface HbaAction {
  path: string;
  content: string;
  before: string;
}

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['entries'],
  properties: {
    entries: {
      type: 'array',
      description: 'rules in the order they should appear (pg_hba.conf is first-match)',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'database', 'user', 'method'],
        anyOf: [
          { properties: { type: { const: 'local' } }, not: { required: ['address'] } },
          { properties: { type: { not: { const: 'local' } } }, required: ['address'] },
        ],
        'x-message': 'a local rule has no address; every other type needs one (a CIDR such as 10.0.0.5/32, a host name, all, samehost or samenet)',
        properties: {
          ...hbaFieldProperties,
          state: { enum: ['present', 'absent'], default: 'present', description: 'present adds or updates the rule, absent removes it from the block' },
        },
      },
    },
    path: { type: 'string', minLength: 1, description: 'pg_hba.conf path (default CONFIG_DIR/pg_hba.conf)' },
    exclusive: { type: 'boolean', default: false, description: 'the block holds exactly the present entries (rules not listed are removed from the block)' },
    marker: { type: 'string', minLength: 1, pattern: '^[^\\n]+$', default: 'plinth managed', description: 'text of the block markers: # BEGIN <marker> / # END <marker>' },
    reload: { type: 'boolean', default: false, description: 'reload the server after a change' },
    ...clusterProperties,
  },
} as const;

export const pg_hba: Module<typeof schema, Observed, HbaAction> = {
  name: 'pg_hba',
  description: 'Ensure or remove pg_hba.conf rules in a managed block',
  schema,

  async observe(ctx, args) {
    const path = args.path ?? `${resolveCluster(args).configDir}/pg_hba.conf`;
    const raw = await ctx.host.read(path, { ...ctx.become });
    if (raw === null) {
      const reason = `${path} does not exist yet (it is created when PostgreSQL is installed)`;
      if (ctx.check) return { unknown: reason };
      throw new ModuleError(reason);
    }
    return { path, content: raw.toString('utf8') };
  },

  plan(observed, args) {
    args.entries.forEach(validateEntry);
    if ('unknown' in observed) return { unknown: true, summary: 'pg_hba.conf rules', reason: observed.unknown };
    const marker = args.marker;
    const file = parseHbaFile(observed.content, marker);
    const entries = mergeEntries(file.managed, args.entries, args.exclusive);
    const content = renderHbaFile(file, entries, marker);
    if (content === observed.content) return { changed: false, summary: 'rules up to date', result: { reload_required: false } };
    return {
      changed: true,
      summary: `update ${observed.path} (${entries.length} managed rule${entries.length === 1 ? '' : 's'})`,
      diffs: [{ target: observed.path, before: observed.content, after: content }],
      writes: [{ path: observed.path, content }],
      action: { path: observed.path, content, before: observed.content },
      result: { reload_required: true },
    };
  },

  async apply(ctx, action, args) {
    const cluster = resolveCluster(args);
    await ctx.host.write(action.path, action.content, { ...ctx.become });
    const errors = await hbaErrors(ctx, args, action.path);
    if (errors.length) {
      await ctx.host.write(action.path, action.before, { ...ctx.become });
      throw new ModuleError(`the server rejects the new ${action.path} (old file restored): ${errors.join('; ')}`);
    }
    if (args.reload) {
      const reloaded = await queryRowsIfRunning(ctx, targetOf(cluster), 'SELECT pg_reload_conf() AS ok');
      return { result: { reloaded: reloaded !== null } };
    }
    return {};
  },
};

/** The rules the running server rejects, when it reads the file at psql variable :path. */
const HBA_ERRORS_SQL = `SELECT line_number, error FROM pg_hba_file_rules
        WHERE error IS NOT NULL AND current_setting('hba_file') = :'path'`;

/** psql's output of HBA_ERRORS_SQL → "line N: error" for each rejected rule. */
export function parseHbaErrors(psqlOutput: string): string[] {
  return parseJsonRows<{ line_number: number | null; error: string }>(psqlOutput).map((r) => `line ${r.line_number}: ${r.error}`);
}

/** Rules the running server would reject, when it reads this very file. */
async function hbaErrors(ctx: ModuleContext, args: HbaArgs, path: string): Promise<string[]> {
  try {
    return parseHbaErrors(await runSql(ctx, targetOf(resolveCluster(args)), asJsonRows(HBA_ERRORS_SQL), { path }));
  } catch (e) {
    if (e instanceof ServerUnavailableError) return [];
    throw e;
  }
}
