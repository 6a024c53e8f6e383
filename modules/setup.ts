// setup: gathers facts on demand (Ansible's setup module), for plays with gather_facts: false or
// to refresh them after a change. The facts join the host's variables as ansible_<name> and
// ansible_facts.<name>, exactly as the play's own fact gathering does.
import { ModuleError, type Module } from '../engine/types.js';
import { gatherHostFacts, subsetOf, type FactSubset } from './support/host-facts.js';

const SUBSETS = ['all', 'min', 'hardware', 'network'];

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  properties: {
    gather_subset: {
      oneOf: [
        { type: 'string', pattern: `^!?(${SUBSETS.join('|')})(,\\s*!?(${SUBSETS.join('|')}))*$` },
        { type: 'array', items: { type: 'string', pattern: `^!?(${SUBSETS.join('|')})$` } },
      ],
      description: "all, min, hardware (memory, processors, mounts), network (interfaces, addresses); '!name' leaves one out; min is always gathered",
    },
    filter: {
      oneOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', items: { type: 'string', minLength: 1 } },
      ],
      description: 'shell-style patterns (ansible_mem*, ansible_eth0): only the facts whose name matches one are returned',
    },
  },
} as const;

export const setup: Module<typeof schema, Record<string, unknown>, never> = {
  name: 'setup',
  description: 'Gather facts about the host (memory, processors, distribution, interfaces, mounts)',
  schema,
  readOnly: true,

  observe: (ctx) => gatherHostFacts(ctx.host),

  plan(facts, args) {
    const subsets = chosenSubsets(listOf(args.gather_subset ?? 'all'));
    const patterns = listOf(args.filter ?? []).map(globToRegex);
    const chosen: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(facts)) {
      const key = `ansible_${name}`;
      if (!subsets.has(subsetOf(name, facts))) continue;
      if (patterns.length && !patterns.some((p) => p.test(key))) continue;
      chosen[key] = value;
    }
    return { changed: false, result: { ansible_facts: chosen } };
  },

  async apply() {
    return { changed: false };
  },
};

/** Ansible takes a list or a comma-separated string. */
function listOf(value: string | string[]): string[] {
  return (Array.isArray(value) ? value : value.split(',')).map((s) => s.trim()).filter(Boolean);
}

function chosenSubsets(list: string[]): Set<FactSubset> {
  const chosen = new Set<FactSubset>(['min']);
  const named = list.filter((s) => !s.startsWith('!'));
  for (const s of named.length ? named : ['all']) {
    if (s === 'all') ['hardware', 'network'].forEach((x) => chosen.add(x as FactSubset));
    else chosen.add(s as FactSubset);
  }
  for (const s of list.filter((x) => x.startsWith('!')).map((x) => x.slice(1))) {
    if (s === 'min') throw new ModuleError("setup: gather_subset '!min' is not possible: the minimal facts are always gathered");
    if (s === 'all') ['hardware', 'network'].forEach((x) => chosen.delete(x as FactSubset));
    else chosen.delete(s as FactSubset);
  }
  return chosen;
}

/** fnmatch: * and ? and [...], matched against the whole name. */
function globToRegex(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}
