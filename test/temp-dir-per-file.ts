// Each test file gets a temporary folder of its own as TMPDIR (os.tmpdir() and every process the
// tests start read it), removed after the file's last hook: no test leaves files in /tmp behind.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';

const parent = process.env.TMPDIR ?? '/tmp';
const own = mkdtempSync(path.join(parent, 'plinth-test-'));
// Tests run commands as other users (become): they must reach the folders made inside.
chmodSync(own, 0o755);
process.env.TMPDIR = own;

// Registered before the file's own hooks, so it runs after them (vitest runs after-hooks as a stack).
afterAll(() => {
  process.env.TMPDIR = parent;
  rmSync(own, { recursive: true, force: true });
}, 120_000);

if (os.tmpdir() !== own) throw new Error(`os.tmpdir() does not follow TMPDIR (${os.tmpdir()})`);
