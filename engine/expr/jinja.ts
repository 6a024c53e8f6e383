// Jinja, written where plinth expects JavaScript (expressions) or EJS (templates): found before
// anything runs, with a one-line hint on the plinth form, instead of a puzzling JavaScript error
// or, worse, a template copied to a host verbatim.

export interface JinjaFound {
  /** Offset of the Jinja construct in the text. */
  index: number;
  /** What was found, as written. */
  found: string;
  hint: string;
}

const FILTER_HINTS: Record<string, string> = {
  default: '`x ?? fallback` (`vars.x ?? fallback` when x may be undefined)',
  d: '`x ?? fallback` (`vars.x ?? fallback` when x may be undefined)',
  join: '`list.join(", ")`',
  length: '`x.length`',
  count: '`x.length`',
  lower: '`x.toLowerCase()`',
  upper: '`x.toUpperCase()`',
  int: '`Number(x)`',
  float: '`Number(x)`',
  string: '`String(x)`',
  trim: '`x.trim()`',
  replace: '`x.replaceAll(old, new)`',
  regex_replace: "`x.replace(/re/g, 'new')`",
  to_json: '`JSON.stringify(x)`',
  to_nice_json: '`JSON.stringify(x, null, 2)`',
  from_json: '`JSON.parse(x)`',
  first: '`x[0]`',
  last: '`x.at(-1)`',
  bool: "`x === true || ['yes', 'true', '1'].includes(String(x))`",
  unique: '`[...new Set(x)]`',
  sort: '`[...x].sort()`',
  map: '`x.map((i) => i.attr)`',
  selectattr: '`x.filter((i) => i.attr)`',
  select: '`x.filter(Boolean)`',
  combine: '`{ ...a, ...b }`',
  dict2items: '`Object.entries(x).map(([key, value]) => ({ key, value }))`',
  basename: "`x.split('/').pop()`",
  b64encode: "`Buffer.from(x).toString('base64')`",
  b64decode: "`Buffer.from(x, 'base64').toString()`",
  ternary: '`cond ? a : b`',
  mandatory: 'a plain variable: an undefined variable is already an error',
  quote: 'a command as a list (argv) or `shell` with the value in the environment',
};

const STATEMENT_HINTS: Record<string, string> = {
  for: '`<% for (const x of xs) { %> ... <% } %>`',
  if: '`<% if (cond) { %> ... <% } else { %> ... <% } %>`',
  elif: '`<% } else if (cond) { %>`',
  else: '`<% } else { %>`',
  set: '`<% const x = value; %>`',
  raw: 'the text itself: EJS leaves `{{ }}` alone',
};

/**
 * The first Jinja construct in `text`: `{% %}` statements, `{# #}` comments, and inside `{{ }}` (or
 * in a bare expression when `bare`) a filter (`x | default(1)`) or a test (`x is defined`).
 */
export function findJinja(text: string, bare = false): JinjaFound | undefined {
  const statement = /\{%-?\s*(\w+)?[\s\S]*?-?%\}/.exec(text);
  if (statement) {
    const hint = STATEMENT_HINTS[statement[1] ?? ''] ?? 'EJS `<% code %>` and `<%= value %>`';
    return { index: statement.index, found: statement[0], hint: `a Jinja statement; in an EJS template write ${hint}` };
  }
  const comment = /\{#[\s\S]*?#\}/.exec(text);
  if (comment) return { index: comment.index, found: comment[0], hint: 'a Jinja comment; in an EJS template write `<%# comment %>`' };
  const expressions = bare ? [{ body: text, at: 0 }] : [...text.matchAll(/\{\{([\s\S]*?)\}\}/g)].map((m) => ({ body: m[1], at: m.index! + 2 }));
  for (const { body, at } of expressions) {
    const code = blankLiterals(body);
    const filter = /(?<![|])\|(?![|=])\s*([A-Za-z_]\w*)/.exec(code);
    if (filter) {
      const name = filter[1];
      const hint = FILTER_HINTS[name] ?? 'a JavaScript expression';
      return { index: at + filter.index, found: `| ${name}`, hint: `the Jinja filter '| ${name}': expressions are JavaScript, write ${hint}` };
    }
    const test = /([\w.]+)?\s+is\s+(not\s+)?(defined|undefined|none|string|number|mapping|iterable|sequence|match|search|succeeded|failed|changed|skipped|true|false)\b/.exec(code);
    if (test) {
      const [, subject = 'x', not, kind] = test;
      const negated = !!not;
      const hint =
        kind === 'defined' || kind === 'undefined'
          ? `\`vars.${subject} ${(kind === 'defined') !== negated ? '!==' : '==='} undefined\``
          : kind === 'none'
            ? `\`${subject} ${negated ? '!=' : '=='} null\``
            : ['succeeded', 'failed', 'changed', 'skipped'].includes(kind)
              ? `\`${negated ? '!' : ''}${subject}.${kind === 'succeeded' ? 'failed === false' : kind}\``
              : 'a JavaScript test (`typeof`, `Array.isArray`, `/re/.test(x)`)';
      const found = test[0].trim();
      return { index: at + test.index, found, hint: `the Jinja test '${found}': expressions are JavaScript, write ${hint}` };
    }
  }
  return undefined;
}

/** Strings and regular expression literals blanked out: a `|` inside them is no filter. */
function blankLiterals(code: string): string {
  const blank = (s: string) => ' '.repeat(s.length);
  return code
    .replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`/g, blank)
    .replace(/((?:^|[=(,:[!&|?{};])\s*)(\/(?:[^/\\\n[]|\\.|\[(?:[^\]\\]|\\.)*\])+\/[dgimsuy]*)/g, (_m, before: string, re: string) => before + blank(re));
}
