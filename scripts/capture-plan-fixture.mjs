#!/usr/bin/env node
// Captures a plan fixture from a real observe: runs `setup` (bash), then the module's observe on
// this machine (local connection; observe only reads), then its plan, and writes
// test/fixtures/plans/<module>/<name>.json with what the plan said. Read the printed expectation
// before committing it: the fixture pins what the plan does, so it must be what the plan should do.
// `observed` in the spec skips observe (a state this machine cannot show); `keep` limits the
// expected keys; arguments the schema refuses give an `invalid` case. Needs a build (npm run build).
//
//   node scripts/capture-plan-fixture.mjs '{"module":"file","name":"drift-mode","description":"...",
//     "setup":"mkdir -p /tmp/fx && touch /tmp/fx/f && chmod 0644 /tmp/fx/f",
//     "args":{"path":"/tmp/fx/f","state":"file","mode":"0600"}, "check": true, "vars": {}}'
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
const WT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { allModules } = await import(`${WT}/dist/modules/index.js`);
const { makeModuleContext } = await import(`${WT}/dist/engine/run/context.js`);
const { LocalHost } = await import(`${WT}/dist/engine/connection/local.js`);
const { validateAgainst } = await import(`${WT}/dist/engine/schema-validation.js`);
const spec = JSON.parse(process.argv[2]);
const mods = await allModules();
const mod = mods.get(spec.module);
if (spec.setup) execSync(spec.setup, { stdio: 'inherit', shell: '/bin/bash' });
const args = structuredClone(spec.args);
const written = structuredClone(spec.args);
const problems = validateAgainst(mod.schema, args).map((p) => `${p.path.join('.') || 'arguments'}: ${p.message}`);
const fixture = { description: spec.description, args: written };
if (spec.check === false) fixture.check = false;
if (problems.length) {
  fixture.expect = { invalid: problems[0] };
} else {
  const host = new LocalHost('localhost');
  const ctx = makeModuleContext({ host, check: spec.check ?? true, vars: spec.vars ?? {}, baseDirs: spec.baseDirs ?? [process.cwd()] });
  let observed = spec.observed;
  if (observed === undefined) observed = await mod.observe(ctx, args);
  if (spec.patchObserved) observed = { ...observed, ...spec.patchObserved };
  fixture.observed = observed;
  // As in the fixture test: a plan that touches the host fails.
  const noHost = new Proxy(
    { name: 'no-host' },
    {
      get: (_t, p) =>
        p === 'name'
          ? 'no-host'
          : () => {
              throw new Error(`a plan must not touch the host (it called ${String(p)})`);
            },
    },
  );
  const noHostCtx = makeModuleContext({ host: noHost, check: spec.check ?? true });
  try {
    const plan = await mod.plan(JSON.parse(JSON.stringify(observed), revive), args, noHostCtx);
    const status = 'unknown' in plan ? 'unknown' : plan.changed ? 'changed' : 'ok';
    const keep = spec.keep ?? ['summary', 'reason', 'action', 'diffs', 'writes', 'result'];
    fixture.expect = { status, ...Object.fromEntries(keep.filter((k) => plan[k] !== undefined).map((k) => [k, plan[k]])) };
  } catch (e) {
    fixture.expect = { error: e.message };
  }
}
if (spec.teardown) execSync(spec.teardown, { stdio: 'inherit', shell: '/bin/bash' });
/** Buffers come back from JSON as the fixture test reads them. */
function revive(_k, v) {
  return v && v.type === 'Buffer' && Array.isArray(v.data) ? Buffer.from(v.data) : v;
}
const text =
  JSON.stringify(fixture, null, 2)
    // Buffers on one line: they are long and unreadable either way.
    .replace(/\{\s*"type": "Buffer",\s*"data": \[([\s\d,]*)\]\s*\}/g, (_m, d) => `{ "type": "Buffer", "data": [${d.replace(/\s+/g, '')}] }`) + '\n';
const out = `${WT}/test/fixtures/plans/${spec.module}/${spec.name}.json`;
mkdirSync(`${WT}/test/fixtures/plans/${spec.module}`, { recursive: true });
writeFileSync(out, text);
console.log(`== ${out}`);
console.log(JSON.stringify(fixture.expect, (k, v) => (k === 'data' && Array.isArray(v) ? `[${v.length} bytes]` : v), 1).slice(0, 1500));
