// get_url against an HTTP server this test starts on 127.0.0.1: checksums given inline or as a
// SHA256SUMS file, a wrong checksum refused (the old file kept), force, directories as dest.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { createServer, type Server } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { get_url } from '../../../modules/get_url.js';
import { checkApplyAgain, run, schemaProblems } from '../../helpers/modules.js';

let server: Server;
let base: string;
let tarball = Buffer.from('pgpool-II 4.5.4 release\n');
let downloads = 0;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/pgpool-II-4.5.4.tar.gz') {
      downloads++;
      res.writeHead(200, { 'Content-Type': 'application/gzip' });
      res.end(tarball);
    } else if (req.url === '/SHA256SUMS') {
      res.end(`${'0'.repeat(64)}  other.tar.gz\n${sha256(tarball)}  pgpool-II-4.5.4.tar.gz\n`);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('get_url', () => {
  test('with a checksum: check predicts, the download lands once, a matching file is not fetched again', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-get-url-'));
    const dest = path.join(dir, 'pgpool.tar.gz');
    const args = { url: `${base}/pgpool-II-4.5.4.tar.gz`, dest, checksum: `sha256:${sha256(tarball)}`, mode: '0640' };
    downloads = 0;
    const { check, first, second } = await checkApplyAgain(get_url, args);
    expect(check).toMatchObject({ status: 'changed', summary: `download ${base}/pgpool-II-4.5.4.tar.gz to ${dest}` });
    expect(first.status).toBe('changed');
    expect(second.status).toBe('ok');
    expect(downloads).toBe(1);
    expect(await fs.readFile(dest)).toEqual(tarball);
    expect(((await fs.stat(dest)).mode & 0o777).toString(8)).toBe('640');
    expect(await fs.readdir(dir)).toEqual(['pgpool.tar.gz']);
  });

  test('a checksums file; a download that does not match is refused and the old file stays', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-get-url-'));
    const url = `${base}/pgpool-II-4.5.4.tar.gz`;
    expect((await run(get_url, { url, dest: dir, checksum: `sha256:${base}/SHA256SUMS` })).status).toBe('changed');
    const dest = path.join(dir, 'pgpool-II-4.5.4.tar.gz');
    expect(await fs.readFile(dest)).toEqual(tarball);
    await expect(run(get_url, { url, dest, checksum: `sha256:${'a'.repeat(64)}` })).rejects.toThrow(`The checksum for ${dest} did not match ${'a'.repeat(64)}; it was ${sha256(tarball)}.`);
    expect(await fs.readFile(dest)).toEqual(tarball);
    expect(await fs.readdir(dir)).toEqual(['pgpool-II-4.5.4.tar.gz']);
  });

  test('without a checksum an existing file is kept; force fetches and changes only when the content did', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-get-url-'));
    const dest = path.join(dir, 'p.tar.gz');
    const url = `${base}/pgpool-II-4.5.4.tar.gz`;
    await run(get_url, { url, dest });
    expect((await run(get_url, { url, dest })).status).toBe('ok');
    expect((await run(get_url, { url, dest, force: true })).status).toBe('ok');
    tarball = Buffer.from('pgpool-II 4.5.5 release\n');
    expect((await run(get_url, { url, dest, force: true })).status).toBe('changed');
    expect(await fs.readFile(dest)).toEqual(tarball);
  });

  test('a 404 fails with the reason; bad checksums are refused by the schema', async () => {
    await expect(run(get_url, { url: `${base}/missing`, dest: '/tmp/plinth-nothing' })).rejects.toThrow(/^Request failed: curl: \(22\).*404/);
    expect(schemaProblems(get_url, { url: 'http://x/y', dest: '/tmp/y', checksum: 'crc32:1' }).length).toBeGreaterThan(0);
  });
});
