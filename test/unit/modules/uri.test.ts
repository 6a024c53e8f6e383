// uri against an HTTP server this test starts on 127.0.0.1: status codes, JSON bodies, redirects,
// credentials that never show, check mode, and `until` retrying a playbook task until the
// service answers 200.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { uri } from '../../../modules/uri.js';
import { run, schemaProblems } from '../../helpers/modules.js';
import { plinth, tempTree } from '../../helpers/cli.js';

let server: Server;
let base: string;
const received: { method: string; url: string; body: string; headers: IncomingMessage['headers'] }[] = [];
let healthCalls = 0;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => resolve(body));
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await readBody(req);
    received.push({ method: req.method!, url: req.url!, body, headers: req.headers });
    if (req.url === '/status') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Pool-Nodes': '3' });
      res.end(JSON.stringify({ primary: 'pg-primary', standbys: ['pg-replica-1', 'pg-replica-2'], sync: true }));
    } else if (req.url === '/missing') {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('no such thing');
    } else if (req.url === '/moved') {
      res.writeHead(302, { Location: '/status' });
      res.end();
    } else if (req.url === '/echo') {
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, contentType: req.headers['content-type'], body }));
    } else if (req.url === '/private') {
      const expected = `Basic ${Buffer.from('admin:s3cret p\'w"d').toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' });
        res.end();
      } else {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('welcome');
      }
    } else if (req.url === '/health') {
      healthCalls++;
      res.writeHead(healthCalls < 3 ? 503 : 200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ready: healthCalls >= 3 }));
    } else {
      res.writeHead(500);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('uri', () => {
  test('GET: status, JSON body parsed, headers as Ansible names them, in check mode too', async () => {
    for (const check of [false, true]) {
      const r = await run(uri, { url: `${base}/status` }, { check });
      expect(r.status).toBe('ok');
      expect(r.result).toMatchObject({
        status: 200,
        url: `${base}/status`,
        redirected: false,
        json: { primary: 'pg-primary', standbys: ['pg-replica-1', 'pg-replica-2'], sync: true },
        content_type: 'application/json',
        x_pool_nodes: '3',
      });
      expect(r.result.content).toBeUndefined();
    }
  });

  test('a status that is not in status_code fails, and keeps the result (status, content)', async () => {
    const r = await run(uri, { url: `${base}/missing`, return_content: true });
    expect(r).toMatchObject({ status: 'failed', message: 'Status code was 404 and not [200]: HTTP Error 404', result: { status: 404, content: 'no such thing' } });
    expect((await run(uri, { url: `${base}/missing`, status_code: [200, 404] })).status).toBe('ok');
  });

  test('redirects: followed for GET (safe), not with follow_redirects none', async () => {
    expect((await run(uri, { url: `${base}/moved` })).result).toMatchObject({ status: 200, redirected: true, url: `${base}/status` });
    expect((await run(uri, { url: `${base}/moved`, follow_redirects: 'none', status_code: 302 })).result).toMatchObject({ status: 302, location: '/status' });
  });

  test('POST with a JSON body: sent in a real run, not sent in check mode (unknown)', async () => {
    const args = { url: `${base}/echo`, method: 'POST', body_format: 'json', body: { name: 'app', replicas: 2 }, status_code: 201 };
    const before = received.length;
    const check = await run(uri, args, { check: true });
    expect(check).toMatchObject({ status: 'unknown', message: 'a POST request is not sent in check mode' });
    expect(received.length).toBe(before);
    const r = await run(uri, args);
    expect(r.status).toBe('ok');
    expect(r.result.json).toEqual({ method: 'POST', contentType: 'application/json', body: '{"name":"app","replicas":2}' });
    const form = await run(uri, { ...args, body_format: 'form-urlencoded', body: { user: 'a b', pass: 'x&y' } });
    expect(form.result.json).toMatchObject({ contentType: 'application/x-www-form-urlencoded', body: 'user=a+b&pass=x%26y' });
  });

  test('credentials go to curl on stdin, never on its command line; wrong ones fail with 401', async () => {
    const r = await run(uri, { url: `${base}/private`, url_username: 'admin', url_password: 's3cret p\'w"d', return_content: true });
    expect(r.result).toMatchObject({ status: 200, content: 'welcome' });
    expect((await run(uri, { url: `${base}/private`, url_username: 'admin', url_password: 'wrong' })).result.status).toBe(401);
  });

  test("a server that is not there: status -1 and curl's reason", async () => {
    const r = await run(uri, { url: 'http://127.0.0.1:1/', timeout: 10 });
    expect(r.status).toBe('failed');
    expect(r.result.status).toBe(-1);
    expect(r.message).toMatch(/^Status code was -1 and not \[200\]: Request failed: curl: \(7\)/);
  });

  test('schema: a URL must be http(s), body_format one of three', () => {
    expect(schemaProblems(uri, { url: 'ftp://x' }).length).toBeGreaterThan(0);
    expect(schemaProblems(uri, { url: 'http://x', body_format: 'yaml' }).length).toBeGreaterThan(0);
  });

  test('in a playbook: until retries while the service answers 503; the password never shows', async () => {
    healthCalls = 0;
    const root = await tempTree({
      'pb.yml': [
        '- hosts: localhost',
        '  gather_facts: false',
        '  tasks:',
        '    - name: wait until the service is healthy',
        '      uri:',
        `        url: ${base}/health`,
        '        url_username: admin',
        '        url_password: "{{ api_password }}"',
        '      register: health',
        '      until: health.status == 200 && health.json.ready',
        '      retries: 10',
        '      delay: 0',
        '    - assert: { that: ["health.json.ready === true"] }',
        '',
      ].join('\n'),
    });
    const r = await plinth(['run', '-v', '--diff', path.join(root, 'pb.yml'), '-e', 'api_password=Hunter2-never-shown']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(healthCalls).toBe(3);
    expect(r.stdout + r.stderr).not.toContain('Hunter2-never-shown');
  });
});
