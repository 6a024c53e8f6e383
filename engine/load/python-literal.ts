// Values in INI inventories are typed the way Ansible types them: Python's ast.literal_eval
// (numbers, strings, True/False/None, lists, tuples, dicts, sets, with comments allowed); a text
// that is not a literal stays the text itself ("true", "010", "a b", "{a:1}").

type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

/** ast.literal_eval(text), or `text` unchanged when it is not a Python literal. */
export function pythonLiteral(text: string): Value {
  try {
    const parser = new LiteralParser(text.replace(/^[ \t]+/, ''));
    const value = parser.expression();
    parser.end();
    return value;
  } catch (e) {
    if (e instanceof NotALiteral) return text;
    throw e;
  }
}

class NotALiteral extends Error {}

const KEYWORDS: Record<string, Value> = { True: true, False: false, None: null };

class LiteralParser {
  private i = 0;
  /** Open brackets: inside them, newlines are whitespace. */
  private depth = 0;

  constructor(private readonly s: string) {}

  end(): void {
    this.space();
    if (this.i < this.s.length) throw new NotALiteral();
  }

  /** A literal, or a tuple of them written without parentheses (`1, 2`). */
  expression(): Value {
    const first = this.unary();
    this.space();
    if (this.s[this.i] !== ',') return first;
    const items = [first];
    while (this.eat(',')) {
      this.space();
      if (this.i >= this.s.length || (this.depth > 0 && /[)\]}]/.test(this.s[this.i]))) break;
      items.push(this.unary());
      this.space();
    }
    return items;
  }

  private unary(): Value {
    this.space();
    const sign = this.s[this.i];
    if (sign === '-' || sign === '+') {
      this.i++;
      // One sign, on a number: literal_eval refuses `--1` and `-"x"`.
      const v = this.atom();
      if (typeof v !== 'number') throw new NotALiteral();
      return sign === '-' ? -v : v;
    }
    return this.atom();
  }

  private atom(): Value {
    this.space();
    const c = this.s[this.i];
    if (c === undefined) throw new NotALiteral();
    if (c === '[') return this.sequence('[', ']');
    if (c === '(') return this.sequence('(', ')');
    if (c === '{') return this.braces();
    if (/[0-9.]/.test(c)) return this.number();
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i))?.[0];
    if (word !== undefined) {
      const quote = this.s[this.i + word.length];
      if ((quote === '"' || quote === "'") && /^(r|u|b|br|rb)$/i.test(word)) return this.strings();
      this.i += word.length;
      if (word in KEYWORDS) return KEYWORDS[word];
      throw new NotALiteral();
    }
    if (c === '"' || c === "'") return this.strings();
    throw new NotALiteral();
  }

  /** A list, or a tuple (`(1)` is the number 1, `(1,)` a tuple). */
  private sequence(open: string, close: string): Value {
    this.i++;
    this.depth++;
    const items: Value[] = [];
    let sawComma = false;
    this.space();
    if (!this.eat(close)) {
      for (;;) {
        items.push(this.unary());
        this.space();
        if (this.eat(close)) break;
        if (!this.eat(',')) throw new NotALiteral();
        sawComma = true;
        this.space();
        if (this.eat(close)) break;
      }
    }
    this.depth--;
    return open === '(' && items.length === 1 && !sawComma ? items[0] : items;
  }

  /** A dict, or a set (a set has no JSON form: its items become a list). */
  private braces(): Value {
    this.i++;
    this.depth++;
    this.space();
    if (this.eat('}')) {
      this.depth--;
      return {};
    }
    const first = this.unary();
    this.space();
    if (!this.eat(':')) {
      const items = [first];
      while (this.eat(',')) {
        this.space();
        if (this.s[this.i] === '}') break;
        items.push(this.unary());
        this.space();
      }
      if (!this.eat('}')) throw new NotALiteral();
      this.depth--;
      return items;
    }
    const out: { [key: string]: Value } = {};
    let key = first;
    for (;;) {
      const value = this.unary();
      if (key !== null && typeof key === 'object') throw new NotALiteral(); // unhashable
      out[pythonKey(key)] = value;
      this.space();
      if (this.eat('}')) break;
      if (!this.eat(',')) throw new NotALiteral();
      this.space();
      if (this.eat('}')) break;
      key = this.unary();
      this.space();
      if (!this.eat(':')) throw new NotALiteral();
    }
    this.depth--;
    return out;
  }

  private number(): number {
    const rest = this.s.slice(this.i);
    const m =
      /^0[xX](?:_?[0-9a-fA-F])+|^0[oO](?:_?[0-7])+|^0[bB](?:_?[01])+/.exec(rest) ?? /^(?:(?:[0-9](?:_?[0-9])*)?\.(?:[0-9](?:_?[0-9])*)?|[0-9](?:_?[0-9])*)(?:[eE][+-]?[0-9](?:_?[0-9])*)?/.exec(rest);
    if (!m || m[0] === '.') throw new NotALiteral();
    const text = m[0].replace(/_/g, '');
    this.i += m[0].length;
    // Python 3 refuses leading zeros in a decimal integer (010), except for zero itself (000).
    if (/^0[0-9]+$/.test(text) && /[1-9]/.test(text)) throw new NotALiteral();
    if (/^[0-9A-Za-z_]/.test(this.s[this.i] ?? '')) throw new NotALiteral(); // 1j, 12abc
    if (/^0[xob]/i.test(text)) return Number(text.toLowerCase());
    return Number(text);
  }

  /** One or more adjacent string literals, concatenated as Python does. */
  private strings(): string {
    let out = '';
    let bytes: boolean | undefined;
    for (;;) {
      const m = /^([A-Za-z]{0,2})('''|"""|'|")/.exec(this.s.slice(this.i));
      if (!m || !/^(r|u|b|br|rb|)$/i.test(m[1])) break;
      const isBytes = /b/i.test(m[1]);
      if (bytes !== undefined && bytes !== isBytes) throw new NotALiteral();
      bytes = isBytes;
      this.i += m[0].length;
      out += this.stringBody(m[2], /r/i.test(m[1]));
      const save = this.i;
      this.space();
      if (!/^([A-Za-z]{0,2})('|")/.test(this.s.slice(this.i))) {
        this.i = save;
        break;
      }
    }
    if (bytes === undefined) throw new NotALiteral();
    return out;
  }

  private stringBody(quote: string, raw: boolean): string {
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) throw new NotALiteral();
      if (this.s.startsWith(quote, this.i)) {
        this.i += quote.length;
        return out;
      }
      const c = this.s[this.i];
      if (c === '\n' && quote.length === 1) throw new NotALiteral();
      if (c !== '\\') {
        out += c;
        this.i++;
        continue;
      }
      const next = this.s[this.i + 1];
      if (next === undefined) throw new NotALiteral();
      if (raw) {
        out += c + next;
        this.i += 2;
        continue;
      }
      this.i += 2;
      out += this.escape(next);
    }
  }

  private escape(c: string): string {
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '\n': '' };
    if (c in simple) return simple[c];
    const hex = (len: number) => {
      const digits = this.s.slice(this.i, this.i + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(digits)) throw new NotALiteral();
      this.i += len;
      return String.fromCodePoint(parseInt(digits, 16));
    };
    if (c === 'x') return hex(2);
    if (c === 'u') return hex(4);
    if (c === 'U') return hex(8);
    if (/[0-7]/.test(c)) {
      let digits = c;
      while (digits.length < 3 && /[0-7]/.test(this.s[this.i] ?? '')) digits += this.s[this.i++];
      return String.fromCodePoint(parseInt(digits, 8));
    }
    return '\\' + c;
  }

  /** Spaces, tabs, comments; newlines and backslash continuations only where Python allows them. */
  private space(): void {
    for (;;) {
      const c = this.s[this.i];
      if (c === ' ' || c === '\t' || c === '\f') this.i++;
      else if (c === '#') while (this.i < this.s.length && this.s[this.i] !== '\n') this.i++;
      else if ((c === '\n' || c === '\r') && this.depth > 0) this.i++;
      else if (c === '\\' && this.s[this.i + 1] === '\n') this.i += 2;
      else if ((c === '\n' || c === '\r') && this.s.slice(this.i).trim() === '') this.i = this.s.length;
      else return;
    }
  }

  private eat(c: string): boolean {
    if (this.s[this.i] !== c) return false;
    this.i++;
    return true;
  }
}

/** A dict key as json.dumps writes it. */
function pythonKey(key: Value): string {
  if (key === true) return 'true';
  if (key === false) return 'false';
  if (key === null) return 'null';
  return String(key);
}
