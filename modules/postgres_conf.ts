// postgres_conf: sets parameters in postgresql.conf the way a person would (see
// postgres/conf.ts) and says whether the server needs a reload or a restart. What each
// parameter needs comes from the server itself: pg_settings when it runs, otherwise the
// installed binary's `postgres --describe-config`. Values are compared normalised
// (256MB = 262144kB, on = true, quoted = bare), so equal values are never rewritten.
import { ModuleError, type Module, type ModuleContext } from '../engine/types.js';
import { clusterProperties, resolveCluster, targetOf, asOwner, type Cluster } from './postgres/cluster.js';
import { parseConf, setConfValues } from './postgres/conf.js';
import { asJsonRows, parseJsonRows, queryRows, queryRowsIfRunning, runSql, ServerUnavailableError } from './postgres/sql.js';
import { formatValue, invalidValue, needsRestart, normalizeValue, parseVarType, type ParamInfo } from './postgres/values.js';
import { afterRestart, predictedRestart } from './postgres/restart-effect.js';

type Value = string | number | boolean;

interface ServerSetting extends ParamInfo {
  setting: string;
  pending_restart: boolean;
  sourcefile: string | null;
  sourceline: number | null;
}

type Observed =
  | { unknown: string }
  | {
      path: string;
      content: string;
      /** What each parameter is (by lower-case name): from pg_settings, else `postgres --describe-config`. */
      params: Record<string, ParamInfo>;
      /** The running server's settings by lower-case name; null when the server does not run. */
      server: Record<string, ServerSetting> | null;
      /** The config file the running server reads. */
      serverConfigFile: string | null;
    };

interface ConfAction {
  path: string;
  content: string;
  before: string;
  restart: boolean;
}

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['settings'],
  properties: {
    settings: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?$' },
      additionalProperties: { type: ['string', 'number', 'boolean'] },
      description: "parameter → value, e.g. {wal_level: replica, wal_keep_size: 256MB, listen_addresses: '*'}; quote on/off in YAML",
    },
    config_file: { type: 'string', minLength: 1, description: 'path of postgresql.conf (default CONFIG_DIR/postgresql.conf)' },
    reload: { type: 'boolean', default: false, description: 'reload the server after a change that needs no restart' },
    defer_lowering: {
      type: 'array',
      items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      description:
        'parameters this task only raises: a value below the current one (in the file or running) is left for a later task. On standbys, the hot-standby parameters (max_connections, ...): lowered only after the primary',
    },
    ...clusterProperties,
  },
} as const;

export const postgres_conf: Module<typeof schema, Observed, ConfAction> = {
  name: 'postgres_conf',
  description: 'Set parameters in postgresql.conf; reports reload_required / restart_required',
  schema,

  async observe(ctx, args) {
    const cluster = resolveCluster(args);
    const path = args.config_file ?? `${cluster.configDir}/postgresql.conf`;
    const names = Object.keys(args.settings).map((n) => n.toLowerCase());
    // Independent reads, sent together: one round trip instead of two.
    const [raw, server] = await Promise.all([
      ctx.host.read(path, { ...ctx.become }),
      serverSettings(ctx, cluster, names).then(
        (v) => ({ v }),
        (e: unknown) => ({ e }),
      ),
    ]);
    if (raw === null) {
      const reason = `${path} does not exist yet (it is created when PostgreSQL is installed)`;
      if (ctx.check) return { unknown: reason };
      throw new ModuleError(reason);
    }
    if ('e' in server) throw server.e;
    let params: Record<string, ParamInfo>;
    if (server.v) params = server.v.settings;
    else {
      try {
        params = await describeConfig(ctx, cluster);
      } catch (e) {
        if (ctx.check && e instanceof ModuleError) return { unknown: e.message };
        throw e;
      }
    }
    return { path, content: raw.toString('utf8'), params, server: server.v?.settings ?? null, serverConfigFile: server.v?.configFile ?? null };
  },

  plan(observed, args) {
    if ('unknown' in observed) return { unknown: true, summary: 'postgresql.conf settings', reason: observed.unknown };
    const file = parseConf(observed.content);
    const changes: Record<string, Value> = {};
    let restart = false;
    let reload = false;
    const warnings: string[] = [];
    const deferrable = new Set((args.defer_lowering ?? []).map((n) => n.toLowerCase()));
    const deferred: string[] = [];
    for (const [name, value] of Object.entries(args.settings)) {
      const key = name.toLowerCase();
      const info = observed.params[key];
      if (!info && !key.includes('.')) throw new ModuleError(`unknown PostgreSQL parameter '${name}' (not in pg_settings / postgres --describe-config)`);
      const wanted = String(formatValueForCompare(value));
      const invalid = info && invalidValue(wanted, info);
      if (invalid) throw new ModuleError(`${name}: '${wanted}' is not valid; expected ${invalid}`);
      const current = file.get(key);
      const fileSame = current !== undefined && normalizeValue(current.value, info) === normalizeValue(wanted, info);
      if (!fileSame) {
        if (deferrable.has(key) && lowers(wanted, [current?.value, observed.server?.[key]?.setting], info)) {
          deferred.push(`${name} = ${formatValue(value)}`);
          continue;
        }
        changes[name] = value;
        if (!info || needsRestart(info.context)) restart = true;
        else reload = true;
        continue;
      }
      const live = observed.server?.[key];
      if (!live) continue;
      if (live.pending_restart) restart = true;
      else if (normalizeValue(live.setting, info) !== normalizeValue(wanted, info)) {
        if (live.sourcefile && live.sourcefile !== observed.path && live.sourcefile !== observed.serverConfigFile) {
          warnings.push(`${name} is overridden by ${live.sourcefile}:${live.sourceline} (server value ${live.setting})`);
        } else if (needsRestart(info!.context)) restart = true;
        else reload = true;
      }
    }
    const changed_settings = Object.keys(changes);
    const result = { restart_required: restart, reload_required: reload && !restart, changed_settings, warnings, deferred_lowering: deferred };
    const later = deferred.length ? `; lowering left for later: ${deferred.join(', ')}` : '';
    if (changed_settings.length === 0) return { changed: false, summary: `settings up to date${later}`, result };
    const content = setConfValues(observed.content, changes);
    return {
      changed: true,
      summary: `set ${changed_settings.map((n) => `${n} = ${formatValue(changes[n])}`).join(', ')}${restart ? ' (restart required)' : ' (reload required)'}${later}`,
      diffs: [{ target: observed.path, before: observed.content, after: content }],
      writes: [{ path: observed.path, content }],
      action: { path: observed.path, content, before: observed.content, restart },
      result,
    };
  },

  async apply(ctx, action, args) {
    const cluster = resolveCluster(args);
    await ctx.host.write(action.path, action.content, { ...ctx.become });
    const errors = await fileErrors(ctx, cluster, action.path);
    if (errors.length) {
      await ctx.host.write(action.path, action.before, { ...ctx.become });
      throw new ModuleError(`the server rejects the new ${action.path} (old file restored): ${errors.join('; ')}`);
    }
    if (args.reload && !action.restart) {
      const reloaded = await queryRowsIfRunning(ctx, targetOf(cluster), 'SELECT pg_reload_conf() AS ok');
      return { result: { reloaded: reloaded !== null } };
    }
    return {};
  },
};

/** True when the wanted quantity is below one of the current values (unknown units: false). */
function lowers(wanted: string, currents: (string | undefined)[], info: ParamInfo | undefined): boolean {
  const quantity = (v: string) => /^(-?\d+(?:\.\d+)?)(B|ms)?$/.exec(normalizeValue(v, info));
  const w = quantity(wanted);
  return currents.some((c) => {
    const q = c === undefined ? null : quantity(c);
    return !!w && !!q && (w[2] ?? '') === (q[2] ?? '') && Number(w[1]) < Number(q[1]);
  });
}

function formatValueForCompare(value: Value): string {
  return typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value);
}

/** The running server's view of the named parameters (psql variable :names, a JSON array). */
const SERVER_SETTINGS_SQL = `SELECT name, context, vartype, unit, enumvals, setting, pending_restart, sourcefile, sourceline, current_setting('config_file') AS config_file
       FROM pg_settings WHERE name IN (SELECT json_array_elements_text(:'names'::json))`;

async function serverSettings(ctx: ModuleContext, cluster: Cluster, names: string[]) {
  try {
    const server = parseServerSettings(await runSql(ctx, targetOf(cluster), asJsonRows(SERVER_SETTINGS_SQL), { names: JSON.stringify(names) }));
    // In check mode, after a restart planned earlier in this run, the server runs what was configured then.
    const restarted = afterRestart(Object.values(server.settings), predictedRestart(ctx, cluster));
    return { ...server, settings: Object.fromEntries(restarted.map((r) => [r.name.toLowerCase(), r])) };
  } catch (e) {
    if (e instanceof ServerUnavailableError) return null;
    throw e;
  }
}

/** psql's output of SERVER_SETTINGS_SQL → the settings by lower-case name, and the file the server reads. */
export function parseServerSettings(psqlOutput: string): { settings: Record<string, ServerSetting>; configFile: string | null } {
  const rows = parseJsonRows<ServerSetting & { vartype: string; config_file: string }>(psqlOutput);
  const settings = Object.fromEntries(rows.map(({ config_file: _file, ...r }) => [r.name.toLowerCase(), { ...r, vartype: parseVarType(r.vartype) }]));
  return { settings, configFile: rows[0]?.config_file ?? null };
}

/** The installed server's own parameter list: name, context, group, type, ... (tab-separated). */
async function describeConfig(ctx: ModuleContext, cluster: Cluster): Promise<Record<string, ParamInfo>> {
  const r = await ctx.host.exec([`${cluster.binDir}/postgres`, '--describe-config'], asOwner(cluster));
  if (r.exitCode !== 0) {
    throw new ModuleError(`PostgreSQL ${cluster.version} is not installed here (${cluster.binDir}/postgres --describe-config: ${r.stderr.trim() || `exit code ${r.exitCode}`})`);
  }
  return parseDescribeConfig(r.stdout);
}

/** `postgres --describe-config` → each parameter's context and type, by lower-case name. */
export function parseDescribeConfig(stdout: string): Record<string, ParamInfo> {
  const params: Record<string, ParamInfo> = {};
  for (const line of stdout.split('\n')) {
    const [name, context, , vartype] = line.split('\t');
    if (name && context && vartype) params[name.toLowerCase()] = { name, context, vartype: parseVarType(vartype), unit: null };
  }
  return params;
}

/**
 * Syntax errors the running server finds in the file (pg_file_settings), if it reads this one.
 * "setting could not be applied" only means "needs a restart" (or a bad value, checked before).
 */
async function fileErrors(ctx: ModuleContext, cluster: Cluster, path: string): Promise<string[]> {
  try {
    const rows = await queryRows<{ sourceline: number | null; name: string | null; error: string }>(
      ctx,
      targetOf(cluster),
      `SELECT sourceline, name, error FROM pg_file_settings WHERE error IS NOT NULL AND error <> 'setting could not be applied' AND sourcefile = :'path'`,
      { path },
    );
    return rows.map((r) => `line ${r.sourceline}${r.name ? ` (${r.name})` : ''}: ${r.error}`);
  } catch (e) {
    if (e instanceof ServerUnavailableError) return [];
    throw e;
  }
}
