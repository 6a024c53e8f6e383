// The contracts that modules and connections implement. Modules see only this file
// (and the pure helpers engine/connection/shell-quote.ts, engine/schema-validation.ts); they never import the runner or the CLI.
import { UserError } from './user-error.js';

/** Errors a module may throw or recognize: a user's mistake, and a template that cannot be rendered. */
export { TemplateError, UserError } from './user-error.js';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { Duplex } from 'node:stream';

/** How a command changes user: the tool, and what it is called with. */
export type BecomeMethod = 'sudo' | 'su' | 'runuser' | 'doas';

/** Run as another user; each field left out takes the host's default (from the inventory). */
export interface BecomeOptions {
  become?: boolean;
  becomeUser?: string;
  becomeMethod?: BecomeMethod;
  /** Extra options for the become tool (become_flags). */
  becomeFlags?: string;
}

export interface ExecOptions extends BecomeOptions {
  /** Bytes written to the command's standard input, then closed. */
  stdin?: string | Buffer;
  /** Environment variables for the command (added to the login environment). */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** Milliseconds before the command is killed and the call rejects with a TimeoutError. */
  timeout?: number;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface FileStat {
  exists: true;
  type: 'file' | 'directory' | 'link' | 'other';
  /** Permission bits as a 4-digit octal string, e.g. "0644". */
  mode: string;
  owner: string;
  group: string;
  size: number;
  /** Link target when type is 'link'. */
  linkTarget?: string;
  /** Modification time, seconds since the epoch. */
  mtime: number;
}

export interface WriteOptions extends BecomeOptions {
  mode?: string;
  owner?: string;
  group?: string;
}

/**
 * A connection to one host. Every method may be called concurrently.
 * Paths are absolute paths on the host. `read` and `stat` return null when the path does not exist.
 * `write` is atomic: a temporary file beside the target, then rename; on failure the old file stays.
 */
export interface Host {
  readonly name: string;
  /** argv is run without a shell; use ['sh', '-c', script] for shell syntax. */
  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  read(path: string, opts?: BecomeOptions): Promise<Buffer | null>;
  write(path: string, content: string | Buffer, opts?: WriteOptions): Promise<void>;
  stat(path: string, opts?: BecomeOptions & { follow?: boolean }): Promise<FileStat | null>;
  /**
   * A TCP connection that the host opens to host:port (ssh: sshd connects, as `ssh -W` does), so
   * a module can talk to a service from the host's side without a client program on it.
   */
  forwardOut?(host: string, port: number): Promise<Duplex>;
  close(): Promise<void>;
  /**
   * Check mode only: the state an earlier change of this run will have left under `key` (see
   * Plan's `effects`), or undefined. A module that observes such state reads it here first.
   */
  predictedEffect?(key: string): unknown;
}

/** A before/after pair of one file or object, shown with --diff. */
export interface Diff {
  /** What is diffed: a path, "pg_hba.conf", "role replicator", ... */
  target: string;
  before: string;
  after: string;
  /** True when the content holds secrets: reporters show "changed (secret)" and no text. */
  secret?: boolean;
}

/** A file the change will write, so check mode can show later tasks the predicted content. */
export interface PlannedWrite {
  path: string;
  /** null = the path will be removed. */
  content: string | null;
  mode?: string;
  /** The path will be a directory (content is then ignored). */
  directory?: boolean;
}

export type Plan<Action = unknown> =
  | {
      changed: false;
      summary?: string;
      result?: Record<string, unknown>;
      /**
       * What the module read is live data, not state it manages (a read-mode SQL query): a saved
       * plan pins that the task ran and passed, not what it read (as for a read-only module).
       */
      readOnly?: boolean;
    }
  | {
      changed: true;
      /** One line: "create /etc/x (0644)", "install postgresql-15". */
      summary: string;
      diffs?: Diff[];
      /** Data for apply; opaque to the engine. */
      action: Action;
      /** Files this change writes, for check-mode predictions of later tasks. */
      writes?: PlannedWrite[];
      /**
       * What the change leaves besides files, keyed by what it is about (`unit:pgpool2.service`,
       * `postgresql:15/main`): check mode hands it to later observations (Host.predictedEffect). A
       * change with writes or effects is modelled: later tasks are planned from its outcome.
       */
      effects?: Record<string, unknown>;
      result?: Record<string, unknown>;
    }
  | {
      /** The outcome depends on something only an apply can create (e.g. a package's config file). */
      unknown: true;
      reason: string;
      summary: string;
    };

export interface ModuleContext {
  host: Host;
  /** --check: observe and plan only. Modules must not change anything in observe/plan. */
  check: boolean;
  /** Task-level become settings, already resolved; pass them to host calls that need privileges. */
  become: BecomeOptions & { become: boolean };
  /** The directory of the playbook or role the task came from (for relative `src:`). */
  baseDirs: string[];
  /** The task's variables, for modules that render templates (template, k8s). */
  vars: Record<string, unknown>;
  /** Evaluates a bare expression (`assert.that`, `when`) over the task's variables. */
  evaluate(expression: string): unknown;
  /** Renders an EJS template file or string with the task's variables. */
  renderTemplate(source: string, opts?: { filename?: string }): Promise<string>;
  /** Registers a value that must never be printed. */
  markSecret(value: string): void;
  /** True when the text contains a value registered as secret (by anyone, in any form it can leak in). */
  isSecret(text: string): boolean;
  /** The run's record of the files it reads on the controller (copy's src, templates). */
  controllerFiles: ControllerFileLog;
  /** Verbose log line (shown with -v), redacted. */
  log(message: string): void;
  /** Facts gathered for the host (os, hostname, addresses). */
  facts: Record<string, unknown>;
}

/**
 * Every file a run reads on the controller is recorded, so that a saved plan pins its content,
 * and named as users see it (relative to the repository, the same on every checkout).
 */
export interface ControllerFileLog {
  record(file: string, content: string | Buffer): void;
  display(file: string): string;
}

/** Thrown by modules for failures the user must read: no stack trace is printed. */
export class ModuleError extends UserError {
  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ModuleError';
  }
}

export interface ApplyResult {
  /** Defaults to true: apply ran the change. */
  changed?: boolean;
  /** Returned to the task's `register` (merged with the plan's result). */
  result?: Record<string, unknown>;
  /** For command-like modules: a non-zero exit is a failure unless failed_when says otherwise. */
  failed?: boolean;
  message?: string;
}

/**
 * The arguments a module's observe, plan and apply receive: the TypeScript type of what its
 * schema (a JSON Schema literal `as const`) accepts. A field with a `default` is always present,
 * because ajv fills it in before the module runs (useDefaults); `oneOf` branches become a union.
 * The schema is the one declaration: no module writes an Args interface beside it.
 */
export type ArgsOf<Schema> = Schema extends ModuleSchema ? FromSchema<Schema> : LegacyArgs<Schema>;

/** The arguments as a task writes them, before ajv fills in the defaults (fields with a default are optional). */
export type InputOf<Schema> = Schema extends ModuleSchema ? FromSchema<Schema, { keepDefaultedPropertiesOptional: true }> : LegacyArgs<Schema>;

/** A module's argument schema: a JSON Schema object literal, `as const`. */
export type ModuleSchema = JSONSchema & { readonly type: 'object'; readonly properties: object };

/** A module not converted yet names its Args interface instead of its schema (issue 15 removes this). */
type LegacyArgs<Args> = Args;

/**
 * A module: observe → plan → apply.
 * - observe reads the host and never changes it;
 * - plan is pure (no I/O) and decides between "ok" and a change;
 * - apply performs exactly the planned action.
 * `Module<typeof schema, Observed, Action>`: the arguments' type comes from the schema (ArgsOf).
 */
export interface Module<Schema = any, Observed = any, Action = any> {
  name: string;
  description: string;
  /**
   * JSON Schema (draft-07) of the arguments, checked by ajv with defaults filled in. Mark secret
   * fields with `"x-secret": true`; `"x-message"` beside a `oneOf`/`anyOf`/`not` is the error
   * a user reads when that constraint fails.
   */
  schema: Schema extends ModuleSchema ? Schema : Record<string, unknown>;
  /** Name of the argument that a free-form string value maps to (`command: ls -l` → `cmd`). */
  freeForm?: string;
  /** Runs on the controller only (set_fact, debug, assert): no connection is needed. */
  controllerOnly?: boolean;
  /** Runs in check mode too, because it changes nothing (stat, postgres_query in read mode). */
  readOnly?: boolean;
  observe(ctx: ModuleContext, args: ArgsOf<Schema>): Promise<Observed>;
  plan(observed: Observed, args: ArgsOf<Schema>, ctx: ModuleContext): Plan<Action> | Promise<Plan<Action>>;
  apply(ctx: ModuleContext, action: Action, args: ArgsOf<Schema>): Promise<ApplyResult>;
  /**
   * What the task will ensure, for a check-mode outcome that is unknown (the current state can't
   * be observed yet); without it, the rendered arguments are shown. Reads only the controller.
   */
  desiredState?(ctx: ModuleContext, args: ArgsOf<Schema>): Promise<Diff[]>;
}

/** Connection failures: a module lets them pass, so that the host is reported unreachable, not failed. */
export { UnreachableError, TimeoutError } from './connection/connection-errors.js';
export { UndefinedVariableError } from './expr/evaluate.js';
