// Plan fixtures: each JSON file holds the arguments, what observe saw, and the plan expected.
import { readdirSync, readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { planEnvLines } from '../library/env_line.ts';

const dir = new URL('./env_line/', import.meta.url);
test.each(readdirSync(dir))('%s', (file) => {
  const fixture = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
  expect(planEnvLines(fixture.observed, fixture.args)).toEqual(fixture.expect);
});
