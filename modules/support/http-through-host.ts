// HTTP(S) from the host's side without a client program on it: each TCP connection is one the
// host opens (host.forwardOut: sshd connects, as `ssh -W` does), and Node speaks HTTP and TLS
// over it. Names resolve and addresses route as on the host (its localhost is its own); the
// server's certificate is checked against Node's CA list, or the host's ca_path file.
// uri and get_url use it when the host has no curl.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import { ModuleError, type Host } from '../../engine/types.js';

interface HostHttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Seconds for the whole exchange, redirects included. */
  timeout: number;
  followRedirects: boolean;
  validateCerts: boolean;
  /** PEM of the CA to check the server against (read from the host). */
  ca?: Buffer;
  auth?: { username: string; password: string; force: boolean };
}

export interface HostHttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The URL that answered (after redirects). */
  url: string;
  redirects: number;
  seconds: number;
}

const MAX_REDIRECTS = 20;

/** The exchange, redirects followed (303, and 301/302 after a POST, continue as GET). */
export async function requestFromHost(host: Host, req: HostHttpRequest): Promise<HostHttpResponse> {
  if (!host.forwardOut) throw new ModuleError(`${host.name}: this connection cannot open TCP connections from the host`);
  const started = Date.now();
  const deadline = started + req.timeout * 1000;
  let url = new URL(req.url);
  let method = req.method;
  let body = req.body;
  let basic = req.auth?.force ?? false;
  for (let redirects = 0; ; ) {
    const headers: Record<string, string> = { ...req.headers, Connection: 'close' };
    if (req.auth && basic) headers.Authorization = `Basic ${Buffer.from(`${req.auth.username}:${req.auth.password}`).toString('base64')}`;
    const r = await exchange(host, url, method, headers, body, req, deadline);
    // Without force_basic_auth, credentials follow a 401 that asks for Basic (as Ansible's urllib does).
    if (r.status === 401 && req.auth && !basic && /^\s*basic/i.test(String(r.headers['www-authenticate'] ?? ''))) {
      basic = true;
      continue;
    }
    const location = r.headers.location;
    if (!req.followRedirects || ![301, 302, 303, 307, 308].includes(r.status) || !location) {
      return { ...r, url: url.toString(), redirects, seconds: (Date.now() - started) / 1000 };
    }
    if (++redirects > MAX_REDIRECTS) throw new ModuleError(`more than ${MAX_REDIRECTS} redirects (${req.url})`);
    url = new URL(location, url);
    if (r.status === 303 || ((r.status === 301 || r.status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
    }
  }
}

function exchange(
  host: Host,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  req: HostHttpRequest,
  deadline: number,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  const tls = url.protocol === 'https:';
  const port = Number(url.port || (tls ? 443 : 80));
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve, reject) => {
    let tunnel: Duplex | undefined;
    const fail = (e: Error) => {
      clearTimeout(timer);
      tunnel?.destroy();
      reject(e);
    };
    const timer = setTimeout(() => fail(new ModuleError(`timed out after ${req.timeout} s (${url})`)), Math.max(1, deadline - Date.now()));
    const createConnection = (_opts: unknown, done: (err: Error | null, socket?: Duplex) => void) => {
      host.forwardOut!(hostname, port).then(
        (stream) => {
          tunnel = stream;
          if (!tls) return done(null, stream);
          const socket = tlsConnect({ socket: stream, servername: hostname, rejectUnauthorized: req.validateCerts, ...(req.ca ? { ca: req.ca } : {}) });
          socket.once('secureConnect', () => done(null, socket));
          socket.once('error', (e) => done(e));
        },
        (e: Error) => done(new Error(`${host.name} cannot connect to ${hostname}:${port}: ${e.message}`)),
      );
      return undefined;
    };
    const send = tls ? httpsRequest : httpRequest;
    const outgoing = send(url, { method, headers: { ...headers, ...(body ? { 'Content-Length': String(body.length) } : {}) }, createConnection: createConnection as never }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        tunnel?.destroy();
        resolve({ status: res.statusCode ?? -1, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    outgoing.on('error', fail);
    outgoing.end(body);
  });
}

/** ssh2's refusal when sshd does not forward (AllowTcpForwarding no), in words a user can act on. */
export function forwardingHint(message: string): string {
  return /administratively prohibited|open failed/i.test(message) ? ' (its sshd refuses TCP forwarding: AllowTcpForwarding)' : '';
}
