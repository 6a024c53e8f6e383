// Reading a user's SQL statement just enough to run it safely: where its $1 placeholders
// are (outside strings, identifiers and comments), what kind of statement it is, and
// whether it can change anything.

interface Token {
  kind: 'code' | 'quoted' | 'comment';
  text: string;
}

/** Splits SQL into code and the parts psql and the server never interpolate. */
function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let code = '';
  const flush = () => {
    if (code) tokens.push({ kind: 'code', text: code });
    code = '';
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const rest = sql.slice(i);
    let end = -1;
    let kind: Token['kind'] = 'quoted';
    if (c === "'") end = quotedEnd(sql, i, /[eE]/.test(sql[i - 1] ?? '') && !/[A-Za-z0-9_]/.test(sql[i - 2] ?? ''));
    else if (c === '"') end = quotedEnd(sql, i, false, '"');
    else if (rest.startsWith('--')) {
      kind = 'comment';
      const nl = sql.indexOf('\n', i);
      end = nl < 0 ? sql.length : nl;
    } else if (rest.startsWith('/*')) {
      kind = 'comment';
      end = blockCommentEnd(sql, i);
    } else {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(rest);
      if (tag && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        end = close < 0 ? sql.length : close + tag[0].length;
      }
    }
    if (end < 0) {
      code += c;
      i++;
      continue;
    }
    flush();
    tokens.push({ kind, text: sql.slice(i, end) });
    i = end;
  }
  flush();
  return tokens;
}

function quotedEnd(sql: string, start: number, backslashes: boolean, quote = "'"): number {
  for (let i = start + 1; i < sql.length; i++) {
    if (backslashes && sql[i] === '\\') i++;
    else if (sql[i] === quote) {
      if (sql[i + 1] === quote) i++;
      else return i + 1;
    }
  }
  return sql.length;
}

function blockCommentEnd(sql: string, start: number): number {
  let depth = 0;
  for (let i = start; i < sql.length - 1; i++) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i++;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i++;
      if (depth === 0) return i + 1;
    }
  }
  return sql.length;
}

/** Replaces $1..$n outside quotes and comments; `replace` returns the SQL for parameter n. */
export function replacePlaceholders(sql: string, replace: (n: number) => string): string {
  return tokenize(sql)
    .map((t) => (t.kind === 'code' ? t.text.replace(/\$(\d+)(?![0-9])/g, (_m, n: string) => replace(Number(n))) : t.text))
    .join('');
}

/** The statement's code with strings and comments blanked, for keyword checks. */
function codeOnly(sql: string): string {
  return tokenize(sql)
    .map((t) => (t.kind === 'code' ? t.text : t.kind === 'quoted' ? " '' " : ' '))
    .join('');
}

type StatementKind = 'rows' | 'show' | 'returning' | 'command';

export function classify(sql: string): { kind: StatementKind; keyword: string; readOnly: boolean; multiple: boolean } {
  const code = codeOnly(sql);
  const keyword = (/^[\s(]*([A-Za-z]+)/.exec(code)?.[1] ?? '').toUpperCase();
  const words = new Set(code.toUpperCase().match(/[A-Z_]+/g) ?? []);
  const modifies = ['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'TRUNCATE', 'INTO', 'COPY', 'CALL', 'DO'].some((w) => words.has(w));
  const locks = /\bFOR\s+(UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b/i.test(code);
  const multiple = /;\s*\S/.test(code);
  if (['SELECT', 'VALUES', 'TABLE', 'WITH'].includes(keyword) && !modifies) {
    return { kind: 'rows', keyword, readOnly: !locks, multiple };
  }
  if (keyword === 'SHOW') return { kind: 'show', keyword, readOnly: true, multiple };
  if (['INSERT', 'UPDATE', 'DELETE'].includes(keyword) && words.has('RETURNING')) {
    return { kind: 'returning', keyword, readOnly: false, multiple };
  }
  return { kind: 'command', keyword, readOnly: false, multiple };
}
