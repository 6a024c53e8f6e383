// Plans as data, as pyinfra's operation fixtures: test/fixtures/plans/<module>/<case>.json holds
// the arguments and what observe saw, and the plan expected from them. No host is involved:
// the context's host refuses every call, so a plan that does I/O fails here.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { allModules } from '../../../modules/index.js';
import { makeModuleContext } from '../../../engine/run/context.js';
import { validateAgainst } from '../../../engine/schema-validation.js';
import type { Host } from '../../../engine/types.js';
import { PLINTH_ROOT } from '../../../engine/paths.js';

const ROOT = path.join(PLINTH_ROOT, 'test', 'fixtures', 'plans');

interface Fixture {
  description?: string;
  args: Record<string, unknown>;
  /** Omitted for a case the schema rejects (`expect.invalid`): observe never runs then. */
  observed?: unknown;
  /** The task runs in check mode (default true; plans must not depend on it, but a few say so). */
  check?: boolean;
  expect: {
    status?: 'ok' | 'changed' | 'unknown';
    summary?: string;
    reason?: string;
    action?: unknown;
    diffs?: unknown;
    writes?: unknown;
    result?: unknown;
    /** The plan throws an error whose message contains this text. */
    error?: string;
    /** The schema rejects the arguments: "field: message" of one of the problems, as the CLI prints it. */
    invalid?: string;
  };
}

/**
 * File contents observed as Buffers: {"type": "Buffer", "utf8": "text"} for text, or the way
 * JSON.stringify writes a Buffer ({"type": "Buffer", "data": [bytes]}) for binary content.
 */
function reviveBuffers(_key: string, value: unknown): unknown {
  const v = value as { type?: unknown; data?: unknown; utf8?: unknown };
  if (v?.type !== 'Buffer') return value;
  if (typeof v.utf8 === 'string') return Buffer.from(v.utf8, 'utf8');
  return Array.isArray(v.data) ? Buffer.from(v.data as number[]) : value;
}

const noHost = new Proxy({ name: 'no-host' } as Host, {
  get(target, prop) {
    if (prop === 'name') return target.name;
    return () => {
      throw new Error(`a plan must not touch the host (it called ${String(prop)})`);
    };
  },
});

const modules = await allModules();

for (const moduleName of readdirSync(ROOT)) {
  describe(`plan fixtures: ${moduleName}`, () => {
    const mod = modules.get(moduleName);
    test('is a module', () => expect(mod, `test/fixtures/plans/${moduleName} names no module`).toBeDefined());
    const cases = readdirSync(path.join(ROOT, moduleName)).filter((f) => f.endsWith('.json'));
    test.each(cases)('%s', async (file) => {
      const fixture = JSON.parse(readFileSync(path.join(ROOT, moduleName, file), 'utf8'), reviveBuffers) as Fixture;
      const args = structuredClone(fixture.args);
      const want = fixture.expect;
      const problems = validateAgainst(mod!.schema, args).map((p) => `${p.path.join('.') || 'arguments'}: ${p.message}`);
      if (want.invalid !== undefined) {
        expect(problems.join('\n')).toContain(want.invalid);
        return;
      }
      expect(problems).toEqual([]);
      const ctx = makeModuleContext({ host: noHost, check: fixture.check ?? true });
      const planned = (async () => mod!.plan(fixture.observed, args, ctx))();
      if (want.error !== undefined) {
        await expect(planned).rejects.toThrow(want.error);
        return;
      }
      const plan = (await planned) as Record<string, any>;
      const status = 'unknown' in plan ? 'unknown' : plan.changed ? 'changed' : 'ok';
      expect(status).toBe(want.status);
      for (const key of ['summary', 'reason', 'action', 'diffs', 'writes', 'result'] as const) {
        if (want[key] !== undefined) expect(plan[key], key).toEqual(want[key]);
      }
    });
  });
}
