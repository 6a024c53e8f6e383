// -e/--extra-vars: `k=v k2=v2`, a JSON or YAML mapping, or @file.yml.
import { promises as fs } from 'node:fs';
import { parse as parseYamlText } from 'yaml';
import { YAML_1_1 } from '../load/yaml.js';
import { readVarsFile } from '../load/inventory.js';
import { UsageError } from './exit-codes.js';

export async function parseExtraVars(values: string[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const v of values) Object.assign(out, await parseOne(v.trim()));
  return out;
}

async function parseOne(v: string): Promise<Record<string, unknown>> {
  if (v.startsWith('@')) {
    const file = v.slice(1);
    if (!(await fs.stat(file).catch(() => null))) throw new UsageError(`--extra-vars: file not found: ${file}`);
    return readVarsFile(file);
  }
  if (v.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = parseYamlText(v, YAML_1_1);
    } catch (e) {
      throw new UsageError(`--extra-vars: invalid JSON/YAML mapping: ${(e as Error).message.split('\n')[0].replace(/:$/, '')}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError('--extra-vars: expected a mapping');
    return parsed as Record<string, unknown>;
  }
  const out: Record<string, unknown> = {};
  // k=v pairs separated by spaces; values may be quoted to hold spaces. Values stay strings, as in Ansible.
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))/g;
  let rest = v;
  for (const m of v.matchAll(re)) {
    out[m[1]] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[4] ?? m[5]);
    rest = rest.replace(m[0], '');
  }
  // Words that are not k=v (`-e 'a=1 junk'`) are an error, not silently dropped; values are never shown.
  const stray = rest.trim().split(/\s+/).filter(Boolean);
  if (Object.keys(out).length === 0 || stray.length) {
    throw new UsageError(`--extra-vars: expected k=v pairs, a JSON mapping or @file; ${stray.length} word(s) are not k=v`);
  }
  return out;
}
