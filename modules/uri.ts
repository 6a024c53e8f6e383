// uri: an HTTP(S) request from the host (as Ansible's uri runs there): the status code is
// checked against status_code, a JSON body is parsed into `json`, and a failed check keeps the
// whole result, so `until: result.status == 200` retries. With curl on the host, curl sends it
// (the request, credentials included, goes to curl on its standard input as a config file, never
// on the command line); a host without curl (Debian's minimal images) gets the request through
// the connection: the host opens the TCP connection (sshd, as `ssh -W`), plinth speaks HTTP over
// it, so names and addresses are still the host's. GET, HEAD and OPTIONS are sent in check mode
// too; other methods are not sent in check mode.
import { ModuleError, type ArgsOf, type Module, type ModuleContext } from '../engine/types.js';
import { forwardingHint, requestFromHost, type HostHttpResponse } from './support/http-through-host.js';
import { observeCommand, type CommandObserved } from './support/command-and-shell.js';

type UriArgs = ArgsOf<typeof schema>;

/** What apply sends; the config (with any credentials) is built in apply, so plans never hold it. */
interface UriRequest {
  method: string;
  redirects: boolean;
}

const MARK = '@@plinth-uri@@';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  anyOf: [
    { not: { required: ['body'] } },
    { properties: { body: { type: ['string', 'null'] } } },
    { properties: { body_format: { const: 'json' } }, required: ['body_format'] },
    { properties: { body_format: { const: 'form-urlencoded' }, body: { type: ['object', 'array'] } }, required: ['body_format'] },
  ],
  'x-message': 'body must be text with body_format raw (the default); a mapping or a list goes with body_format json or form-urlencoded',
  properties: {
    url: { type: 'string', pattern: '^https?://', description: 'http:// or https:// URL, requested from the host' },
    method: { type: 'string', pattern: '^[A-Z]+$', default: 'GET', description: 'HTTP method' },
    body: { description: 'request body: text, or with body_format json/form-urlencoded a mapping or list' },
    body_format: { enum: ['raw', 'json', 'form-urlencoded'], default: 'raw', description: 'how body is encoded (json and form-urlencoded also set Content-Type)' },
    headers: { type: 'object', additionalProperties: { type: 'string' }, default: {}, description: 'request headers' },
    status_code: {
      oneOf: [{ type: 'integer' }, { type: 'array', items: { type: 'integer' }, minItems: 1 }],
      default: [200],
      description: 'status code(s) that mean success; any other fails the task (with the result kept for until)',
    },
    return_content: { type: 'boolean', default: false, description: 'return the body as `content` (a JSON body is always parsed into `json`)' },
    timeout: { type: 'number', exclusiveMinimum: 0, default: 30, description: 'seconds the whole request may take' },
    follow_redirects: { enum: ['all', 'safe', 'none'], default: 'safe', description: 'safe: follow redirects of GET and HEAD only' },
    validate_certs: { type: 'boolean', default: true, description: "check the server's TLS certificate" },
    ca_path: { type: 'string', minLength: 1, description: 'CA certificate file on the host to check the server against' },
    url_username: { type: 'string', description: 'user for HTTP authentication' },
    url_password: { type: 'string', 'x-secret': true, description: 'password for HTTP authentication (never shown)' },
    force_basic_auth: { type: 'boolean', default: false, description: 'send Basic credentials with the first request instead of after a 401' },
    creates: { type: 'string', minLength: 1, description: 'when this path exists on the host, the request is not sent' },
    removes: { type: 'string', minLength: 1, description: 'when this path does not exist on the host, the request is not sent' },
  },
} as const;

export const uri: Module<typeof schema, CommandObserved, UriRequest> = {
  name: 'uri',
  description: 'Send an HTTP request from the host and check the status code',
  schema,
  // GET is sent in check mode too (plan decides for other methods).
  readOnly: true,

  observe: (ctx, args) => observeCommand(ctx, args),

  plan(observed, args, ctx) {
    const method = args.method;
    if (observed.skipReason) return { changed: false, summary: observed.skipReason.msg, result: { msg: observed.skipReason.msg } };
    if (ctx.check && !SAFE.has(method)) {
      return { unknown: true, summary: `${method} ${args.url}`, reason: `a ${method} request is not sent in check mode` };
    }
    const redirects = args.follow_redirects === 'all' || (args.follow_redirects !== 'none' && SAFE.has(method));
    return { changed: true, summary: `${method} ${args.url}`, action: { method, redirects } };
  },

  async apply(ctx, request, args) {
    const argv = ['curl', '--config', '-', '--silent', '--show-error', '--globoff', '--output', '-', '--write-out', `\n${MARK}%{json}\n${MARK}%{header_json}`];
    if (request.redirects) argv.push('--location', '--max-redirs', '20');
    const r = await ctx.host.exec(argv, { stdin: curlConfig(args), timeout: (args.timeout + 60) * 1000 });
    if (r.exitCode === 127 || /curl: (not found|command not found)/.test(r.stderr)) return uriResult(await responseWithoutCurl(ctx, args, request), args);
    return interpretResponse(r.exitCode, r.stdout, r.stderr, args);
  },
};

/** A response the way both ways of sending report it; status -1 with `error` when there was none. */
interface UriResponse {
  status: number;
  url: string;
  redirects: number;
  seconds: number;
  /** Header name → value(s), as the server wrote the names. */
  headers: Record<string, unknown>;
  contentType: string;
  body: string;
  error?: string;
}

/** Through the connection, for a host without curl. */
async function responseWithoutCurl(ctx: ModuleContext, args: UriArgs, request: UriRequest): Promise<UriResponse> {
  const headers: Record<string, string> = { ...args.headers };
  const body = encodeBody(args);
  if (body !== undefined) addContentType(headers, args);
  const ca = args.ca_path ? await ctx.host.read(args.ca_path, { ...ctx.become }) : undefined;
  if (args.ca_path && !ca) throw new ModuleError(`uri: ca_path ${args.ca_path} does not exist on ${ctx.host.name}`);
  try {
    const r: HostHttpResponse = await requestFromHost(ctx.host, {
      url: args.url,
      method: request.method,
      headers,
      body: body === undefined ? undefined : Buffer.from(body),
      timeout: args.timeout,
      followRedirects: request.redirects,
      validateCerts: args.validate_certs !== false,
      ...(ca ? { ca } : {}),
      ...(args.url_username !== undefined ? { auth: { username: args.url_username, password: args.url_password ?? '', force: !!args.force_basic_auth } } : {}),
    });
    return { status: r.status, url: r.url, redirects: r.redirects, seconds: r.seconds, headers: r.headers, contentType: String(r.headers['content-type'] ?? ''), body: r.body.toString('utf8') };
  } catch (e) {
    if (e instanceof ModuleError && /redirects/.test(e.message)) throw e;
    const message = (e as Error).message;
    return {
      status: -1,
      url: args.url,
      redirects: 0,
      seconds: 0,
      headers: {},
      contentType: '',
      body: '',
      error: `${message}${forwardingHint(message)} (${ctx.host.name} has no curl: plinth sent the request through the connection)`,
    };
  }
}

/** curl's config syntax: one option per line, values in double quotes with \\ and \" escaped. */
export function curlConfig(args: UriArgs): string {
  const q = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
  const method = args.method;
  const lines = [`url = ${q(args.url)}`, `max-time = ${args.timeout}`];
  if (method === 'HEAD') lines.push('head');
  else if (method !== 'GET' || args.body !== undefined) lines.push(`request = ${q(method)}`);
  const headers: Record<string, string> = { ...args.headers };
  const body = encodeBody(args);
  if (body !== undefined) {
    addContentType(headers, args);
    lines.push(`data-binary = ${q(body)}`);
  }
  for (const [k, v] of Object.entries(headers)) lines.push(`header = ${q(`${k}: ${v}`)}`);
  if (args.url_username !== undefined) {
    lines.push(`user = ${q(`${args.url_username}:${args.url_password ?? ''}`)}`);
    // curl sends Basic credentials at once; without force_basic_auth, Ansible answers a 401 first.
    lines.push(args.force_basic_auth ? 'basic' : 'anyauth');
  }
  if (args.validate_certs === false) lines.push('insecure');
  if (args.ca_path) lines.push(`cacert = ${q(args.ca_path)}`);
  return lines.join('\n') + '\n';
}

function encodeBody(args: UriArgs): string | undefined {
  const body = args.body;
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  // The schema lets a mapping or a list through only with body_format json or form-urlencoded.
  if (args.body_format === 'form-urlencoded') {
    const pairs = Array.isArray(body) ? (body as [string, unknown][]) : Object.entries(body as Record<string, unknown>);
    return new URLSearchParams(pairs.map(([k, v]) => [k, String(v)])).toString();
  }
  return JSON.stringify(body);
}

/** json and form-urlencoded bodies say so, unless the task set Content-Type itself. */
function addContentType(headers: Record<string, string>, args: UriArgs): void {
  if (Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) return;
  if (args.body_format === 'json') headers['Content-Type'] = 'application/json';
  if (args.body_format === 'form-urlencoded') headers['Content-Type'] = 'application/x-www-form-urlencoded';
}

/** curl's exit, output (body, then its write-out) → Ansible's uri result. */
function interpretResponse(exitCode: number, stdout: string, stderr: string, args: UriArgs) {
  const headerAt = stdout.lastIndexOf(`\n${MARK}`);
  const infoAt = stdout.lastIndexOf(`\n${MARK}`, headerAt - 1);
  const info = infoAt >= 0 ? parseJson(stdout.slice(infoAt + MARK.length + 1, headerAt)) : {};
  const headers = headerAt >= 0 ? parseJson(stdout.slice(headerAt + MARK.length + 1)) : {};
  return uriResult(
    {
      status: exitCode === 0 ? Number(info.response_code ?? info.http_code ?? -1) : -1,
      url: (info.url_effective as string | undefined) ?? args.url,
      redirects: Number(info.num_redirects ?? 0),
      seconds: Number(info.time_total ?? 0),
      headers,
      contentType: String(info.content_type ?? ''),
      body: infoAt >= 0 ? stdout.slice(0, infoAt) : '',
      ...(exitCode !== 0 ? { error: stderr.trim().split('\n').pop() || `curl exit code ${exitCode}` } : {}),
    },
    args,
  );
}

/** A response → Ansible's uri result, failed when the status is not one of status_code. */
function uriResult(response: UriResponse, args: UriArgs) {
  const accepted = Array.isArray(args.status_code) ? args.status_code : [args.status_code];
  const { status, body } = response;
  const result: Record<string, unknown> = { status, url: response.url, redirected: response.redirects > 0, elapsed: Math.round(response.seconds) };
  for (const [name, values] of Object.entries(response.headers)) {
    result[name.toLowerCase().replace(/-/g, '_')] = Array.isArray(values) ? values.join(', ') : String(values);
  }
  const contentType = response.contentType || String(result.content_type ?? '');
  if (/[/+]json\b/i.test(contentType) && body !== '') {
    try {
      result.json = JSON.parse(body);
    } catch {
      // A body that claims JSON but is not stays text: Ansible then returns no json either.
    }
  }
  if (args.return_content) result.content = body;
  if (response.error !== undefined) {
    result.msg = `Status code was -1 and not ${JSON.stringify(accepted)}: Request failed: ${response.error}`;
    return { changed: false, failed: true, message: result.msg as string, result };
  }
  if (!accepted.includes(status)) {
    result.msg = `Status code was ${status} and not ${JSON.stringify(accepted)}: HTTP Error ${status}`;
    return { changed: false, failed: true, message: result.msg as string, result };
  }
  result.msg = `OK (${Buffer.byteLength(body)} bytes)`;
  return { changed: false, result };
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text.trim());
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}
