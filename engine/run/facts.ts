// Facts for the play's gather_facts: the same facts the setup module returns, gathered in one round trip.
export { gatherHostFacts as gatherFacts } from '../../modules/support/host-facts.js';

/** Ansible's names for the same facts: ansible_hostname, ansible_distribution, ... */
export function factVariables(facts: Record<string, unknown>): Record<string, unknown> {
  const vars: Record<string, unknown> = { ansible_facts: facts, facts };
  for (const [k, v] of Object.entries(facts)) vars[`ansible_${k}`] = v;
  return vars;
}
