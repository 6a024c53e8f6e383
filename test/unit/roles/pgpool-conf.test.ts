// The role's pgpool.conf template: settings the role's variables name reach the file.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import * as YAML from 'yaml';
import { renderEjs } from '../../../engine/expr/ejs-template.js';

const role = path.resolve(import.meta.dirname, '../../../roles/pgpool');
const template = path.join(role, 'templates/pgpool/pgpool.conf.ejs');
const defaults = YAML.parse(readFileSync(path.join(role, 'defaults/main.yml'), 'utf8')) as Record<string, unknown>;

function render(vars: Record<string, unknown>): string {
  const all = { ...defaults, pgpool_version: '4.3', pgpool_backend_groups: ['primary'], pgpool_backend_slots: [], hostvars: {}, groups: {}, ...vars };
  return renderEjs(readFileSync(template, 'utf8'), all, template);
}

describe('pgpool.conf', () => {
  test('pgpool listens for PCP on pgpool_pcp_port, the port the role’s pcp commands and .pcppass use', () => {
    expect(render({}).split('\n')).toContain('pcp_port = 9898');
    const conf = render({ pgpool_pcp_port: 9999 }).split('\n');
    expect(conf).toContain('pcp_port = 9999');
    expect(conf.filter((l) => l.startsWith('pcp_port'))).toEqual(['pcp_port = 9999']);
  });
});
