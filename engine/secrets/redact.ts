// The one way plinth hides secrets: every secret value is registered here when it is
// loaded, and every line of output passes through redact() before it is printed or saved.

const REDACTED = '********';

class Redactor {
  private readonly needles = new Set<string>();
  private pattern: RegExp | null = null;

  /** Registers a secret and the encoded forms in which it can leak (base64, URL encoding). */
  add(value: unknown): void {
    if (typeof value !== 'string' || value.length < 3) return;
    const forms = [value, Buffer.from(value).toString('base64').replace(/=+$/, ''), encodeURIComponent(value), JSON.stringify(value).slice(1, -1)];
    for (const form of forms) if (form.length >= 3) this.needles.add(form);
    this.pattern = null;
  }

  has(value: string): boolean {
    return this.needles.has(value);
  }

  /** True when the text contains a registered secret in any of its forms. */
  holdsSecret(text: string): boolean {
    return text !== '' && this.redact(text) !== text;
  }

  get size(): number {
    return this.needles.size;
  }

  redact(text: string): string {
    if (this.needles.size === 0 || !text) return text;
    this.pattern ??= new RegExp(
      [...this.needles]
        .sort((a, b) => b.length - a.length)
        .map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'),
      'g',
    );
    return text.replace(this.pattern, REDACTED);
  }

  /** Redacts every string inside a JSON-like value. */
  redactValue<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactValue(v)) as T;
    if (value && typeof value === 'object' && !(value instanceof Buffer)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.redactValue(v)])) as T;
    }
    return value;
  }
}

/** The process-wide registry: secrets are secret everywhere once seen anywhere. */
export const redactor = new Redactor();
