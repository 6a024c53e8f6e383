// uri and get_url on a host without curl: a real sshd on 127.0.0.1 whose sessions get a PATH with
// every program of /usr/bin and /bin except curl, and a real HTTP server. The request goes through
// the ssh connection (sshd opens the TCP connection); an sshd that refuses forwarding is named.
import { createHash } from 'node:crypto';
import { promises as fs, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SshHost } from '../../../engine/connection/ssh.js';
import { get_url } from '../../../modules/get_url.js';
import { uri } from '../../../modules/uri.js';
import { checkApplyAgain, run } from '../../helpers/modules.js';
import { sshOptionsTo, startSshd, type TestSshd } from '../../helpers/sshd.js';

let work: string;
let server: Server;
let base: string;
let sshd: TestSshd;
let host: SshHost;
let refusing: TestSshd;
let refusingHost: SshHost;
const tarball = Buffer.from('pgpool-II 4.5.4 release\n');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const auth = `Basic ${Buffer.from('admin:s3cret').toString('base64')}`;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-nocurl-'));
  const bin = path.join(work, 'bin');
  await fs.mkdir(bin);
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    for (const name of readdirSync(dir)) {
      if (name !== 'curl') await fs.symlink(path.join(dir, name), path.join(bin, name)).catch(() => {});
    }
  }
  server = createServer((req, res) => {
    if (req.url === '/status') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Pool-Nodes': '3' });
      res.end(JSON.stringify({ primary: 'pg-primary', sync: true }));
    } else if (req.url === '/moved') {
      res.writeHead(302, { Location: '/status' });
      res.end();
    } else if (req.url === '/private') {
      res.writeHead(req.headers.authorization === auth ? 200 : 401, { 'WWW-Authenticate': 'Basic realm="x"', 'Content-Type': 'text/plain' });
      res.end(req.headers.authorization === auth ? 'welcome' : '');
    } else if (req.url === '/echo' && req.method === 'POST') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ contentType: req.headers['content-type'], body }));
      });
    } else if (req.url === '/pgpool-II-4.5.4.tar.gz') {
      res.writeHead(200, { 'Content-Type': 'application/gzip' });
      res.end(tarball);
    } else if (req.url === '/SHA256SUMS') {
      res.end(`${sha256(tarball)}  pgpool-II-4.5.4.tar.gz\n`);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  sshd = await startSshd({ extraConfig: [`SetEnv PATH=${bin}`] });
  host = await SshHost.connect(sshOptionsTo(sshd));
  refusing = await startSshd({ extraConfig: [`SetEnv PATH=${bin}`, 'AllowTcpForwarding no'] });
  refusingHost = await SshHost.connect(sshOptionsTo(refusing));
}, 120_000);

afterAll(async () => {
  await host?.close();
  await refusingHost?.close();
  await sshd?.stop();
  await refusing?.stop();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await fs.rm(work, { recursive: true, force: true });
});

describe('a host without curl', { timeout: 300_000 }, () => {
  test('the host really has none', async () => {
    expect((await host.exec(['sh', '-c', 'command -v curl || echo none'])).stdout.trim()).toBe('none');
    expect((await host.exec(['sh', '-c', 'command -v sha256sum'])).stdout.trim()).toBe(path.join(work, 'bin', 'sha256sum'));
  });

  test('uri: status, JSON and headers; redirects; Basic credentials after a 401; a POST body', async () => {
    const r = await run(uri, { url: `${base}/status` }, { host });
    expect(r).toMatchObject({
      status: 'ok',
      result: { status: 200, url: `${base}/status`, redirected: false, json: { primary: 'pg-primary', sync: true }, content_type: 'application/json', x_pool_nodes: '3' },
    });
    expect((await run(uri, { url: `${base}/status` }, { host, check: true })).result).toMatchObject({ status: 200 });
    expect((await run(uri, { url: `${base}/moved` }, { host })).result).toMatchObject({ status: 200, redirected: true, url: `${base}/status` });
    expect((await run(uri, { url: `${base}/moved`, follow_redirects: 'none', status_code: 302 }, { host })).result).toMatchObject({ status: 302, location: '/status' });
    expect((await run(uri, { url: `${base}/private`, url_username: 'admin', url_password: 's3cret', return_content: true }, { host })).result).toMatchObject({ status: 200, content: 'welcome' });
    const denied = await run(uri, { url: `${base}/private`, url_username: 'admin', url_password: 'wrong' }, { host });
    expect(denied).toMatchObject({ status: 'failed', message: 'Status code was 401 and not [200]: HTTP Error 401' });
    const post = await run(uri, { url: `${base}/echo`, method: 'POST', body_format: 'json', body: { replicas: 2 }, status_code: 201 }, { host });
    expect(post.result.json).toEqual({ contentType: 'application/json', body: '{"replicas":2}' });
  });

  test('uri: nothing listening, and an sshd that refuses forwarding, fail with status -1 and the reason', async () => {
    const closed = await run(uri, { url: 'http://127.0.0.1:1/', timeout: 10 }, { host });
    expect(closed.status).toBe('failed');
    expect(closed.result.status).toBe(-1);
    expect(closed.message).toMatch(
      /^Status code was -1 and not \[200\]: Request failed: \S+ cannot connect to 127\.0\.0\.1:1: .* \(\S+ has no curl: plinth sent the request through the connection\)$/,
    );
    const refused = await run(uri, { url: `${base}/status` }, { host: refusingHost });
    expect(refused.message).toContain('(its sshd refuses TCP forwarding: AllowTcpForwarding)');
  });

  test('https: the certificate is checked against ca_path (a file on the host), refused without it, accepted with validate_certs: false', async () => {
    const key = path.join(work, 'tls.key');
    const cert = path.join(work, 'tls.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const tls = createHttpsServer({ key: await fs.readFile(key), cert: await fs.readFile(cert) }, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"tls":true}');
    });
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(tls.address() as { port: number }).port}/`;
    try {
      expect((await run(uri, { url, ca_path: cert }, { host })).result).toMatchObject({ status: 200, json: { tls: true } });
      const untrusted = await run(uri, { url }, { host });
      expect(untrusted).toMatchObject({ status: 'failed', result: { status: -1 } });
      expect(untrusted.message).toMatch(/self[- ]signed certificate/);
      expect((await run(uri, { url, validate_certs: false }, { host })).result).toMatchObject({ status: 200 });
    } finally {
      tls.closeAllConnections();
      await new Promise((r) => tls.close(r));
      await fs.rm(key);
      await fs.rm(cert);
    }
  });

  test('get_url: check predicts, the download lands once (atomically), a checksums file, a wrong checksum refused', async () => {
    const dest = path.join(work, 'pgpool.tar.gz');
    const args = { url: `${base}/pgpool-II-4.5.4.tar.gz`, dest, checksum: `sha256:${base}/SHA256SUMS`, mode: '0640' };
    const { check, first, second } = await checkApplyAgain(get_url, args, { host });
    expect(check).toMatchObject({ status: 'changed', summary: `download ${base}/pgpool-II-4.5.4.tar.gz to ${dest}` });
    expect(first).toMatchObject({ status: 'changed', result: { checksum_dest: sha256(tarball) } });
    expect(second.status).toBe('ok');
    expect(await fs.readFile(dest)).toEqual(tarball);
    expect(((await fs.stat(dest)).mode & 0o777).toString(8)).toBe('640');
    expect((await run(get_url, { url: args.url, dest, force: true }, { host })).status).toBe('ok');
    await expect(run(get_url, { url: args.url, dest, checksum: `sha256:${'a'.repeat(64)}` }, { host })).rejects.toThrow(
      `The checksum for ${dest} did not match ${'a'.repeat(64)}; it was ${sha256(tarball)}.`,
    );
    await expect(run(get_url, { url: `${base}/missing`, dest: path.join(work, 'missing') }, { host })).rejects.toThrow(`Request failed: HTTP Error 404 (${base}/missing)`);
    expect((await fs.readdir(work)).sort()).toEqual(['bin', 'pgpool.tar.gz']);
  });
});
