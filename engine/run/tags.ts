// --tags / --skip-tags, as in Ansible: `always` runs unless skipped by name, `never` only when one of
// the task's own tags is asked for by name (`tagged` and `all` do not select it).
export function tagsSelected(taskTags: string[], only: string[] = [], skip: string[] = []): boolean {
  const tags = new Set(taskTags);
  if (skip.some((t) => tags.has(t) || (t === 'all' && !tags.has('always')))) return false;
  const named = only.some((t) => tags.has(t));
  if (tags.has('never') && !named) return false;
  if (only.length === 0 || only.includes('all')) return true;
  if (tags.has('always')) return true;
  return named || only.some((t) => (t === 'tagged' && tags.size > 0) || (t === 'untagged' && tags.size === 0));
}
