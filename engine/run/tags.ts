// --tags / --skip-tags, as in Ansible: `always` runs unless skipped by name, `never` only when asked for.
export function tagsSelected(taskTags: string[], only: string[] = [], skip: string[] = []): boolean {
  const tags = new Set(taskTags);
  if (skip.some((t) => tags.has(t) || (t === 'all' && !tags.has('always')))) return false;
  if (only.length === 0 || only.includes('all')) return !tags.has('never') || only.includes('never');
  if (tags.has('always')) return true;
  return only.some((t) => tags.has(t) || (t === 'tagged' && tags.size > 0) || (t === 'untagged' && tags.size === 0));
}
