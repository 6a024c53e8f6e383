// The field paths the API server writes in its answers — server-side apply's
// `.spec.template.spec.containers[name="backend"].image` (conflicts, strict validation) and the
// decoder's `spec.containers[0].portz` — resolved to concrete keys and indexes of an object, so
// that a message can show a field's value or the manifest's line.

type Segment = { field: string } | { index: number } | { keys: Record<string, unknown> } | { value: unknown };

/** Splits a server field path into segments; null when it is not one. */
export function parseFieldPath(text: string): Segment[] | null {
  const out: Segment[] = [];
  let i = text.startsWith('.') ? 0 : -1;
  if (i === -1) {
    // The decoder's form has no leading dot.
    text = `.${text}`;
    i = 0;
  }
  while (i < text.length) {
    if (text[i] === '.') {
      let j = i + 1;
      while (j < text.length && text[j] !== '.' && text[j] !== '[') j++;
      if (j === i + 1) return null;
      out.push({ field: text.slice(i + 1, j) });
      i = j;
    } else if (text[i] === '[') {
      const end = closingBracket(text, i);
      if (end < 0) return null;
      const inner = text.slice(i + 1, end);
      const segment = selector(inner);
      if (!segment) return null;
      out.push(segment);
      i = end + 1;
    } else {
      return null;
    }
  }
  return out;
}

function closingBracket(text: string, open: number): number {
  let quoted = false;
  for (let j = open + 1; j < text.length; j++) {
    const c = text[j];
    if (quoted) {
      if (c === '\\') j++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ']') return j;
  }
  return -1;
}

function selector(inner: string): Segment | null {
  if (/^\d+$/.test(inner)) return { index: Number(inner) };
  if (inner.startsWith('=')) return parseJson(inner.slice(1), (value): Segment => ({ value })) ?? null;
  // key=json,key=json: the keys are names, the values JSON; a comma inside a quoted value is not a separator.
  const keys: Record<string, unknown> = {};
  let rest = inner;
  while (rest.length) {
    const eq = rest.indexOf('=');
    if (eq <= 0) return null;
    const key = rest.slice(0, eq);
    rest = rest.slice(eq + 1);
    const end = jsonEnd(rest);
    const value = parseJson(rest.slice(0, end), (v) => v);
    if (value === undefined) return null;
    keys[key] = value;
    rest = rest.slice(end);
    if (rest.startsWith(',')) rest = rest.slice(1);
  }
  return { keys };
}

function jsonEnd(text: string): number {
  if (!text.startsWith('"')) {
    const comma = text.indexOf(',');
    return comma < 0 ? text.length : comma;
  }
  for (let j = 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j + 1;
  }
  return text.length;
}

function parseJson<T>(text: string, wrap: (v: unknown) => T): T | undefined {
  try {
    return wrap(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The concrete path (keys and indexes) of `segments` in `value`, as far as it exists there.
 * A list item is matched on the selector keys it has (a manifest may leave a defaulted key out).
 */
export function concretePath(value: unknown, segments: Segment[]): { path: (string | number)[]; complete: boolean } {
  const path: (string | number)[] = [];
  let node = value;
  for (const s of segments) {
    let next: string | number | undefined;
    if ('field' in s) {
      if (node && typeof node === 'object' && !Array.isArray(node) && s.field in node) next = s.field;
    } else if (Array.isArray(node)) {
      if ('index' in s) next = s.index < node.length ? s.index : undefined;
      else if ('value' in s) next = indexOrUndefined(node.findIndex((item) => sameJson(item, s.value)));
      else {
        const wanted = Object.entries(s.keys);
        next = indexOrUndefined(
          node.findIndex((item) => {
            if (!item || typeof item !== 'object') return false;
            const present = wanted.filter(([k]) => k in item);
            return present.length > 0 && present.every(([k, v]) => sameJson((item as Record<string, unknown>)[k], v));
          }),
        );
      }
    }
    if (next === undefined) return { path, complete: false };
    path.push(next);
    node = (node as Record<string | number, unknown>)[next];
  }
  return { path, complete: true };
}

function indexOrUndefined(i: number): number | undefined {
  return i < 0 ? undefined : i;
}

/** The value at a server field path, or undefined when the object has no such field. */
export function valueAt(value: unknown, fieldPath: string): unknown {
  const segments = parseFieldPath(fieldPath);
  if (!segments) return undefined;
  const { path, complete } = concretePath(value, segments);
  if (!complete) return undefined;
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], value);
}
