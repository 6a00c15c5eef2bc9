/**
 * Kubernetes label selectors in their string form (k8s.io/apimachinery/pkg/labels.Parse), as the HPA sends an
 * external metric's `metric.selector` in `?labelSelector=`: comma-separated requirements
 *
 *   key=value  key==value  key!=value  key in (a,b)  key notin (a,b)  key  !key
 *
 * Set-based values are listed in parentheses; whitespace is allowed around tokens. `>`/`<` are not supported.
 */

export type Operator = '=' | '!=' | 'in' | 'notin' | 'exists' | '!exists';

export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

export class SelectorError extends Error {
  override name = 'SelectorError';
}

export const MAX_SELECTOR_LENGTH = 4096;
const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

export function parseLabelSelector(text: string): Requirement[] {
  if (text.length > MAX_SELECTOR_LENGTH) throw new SelectorError(`selector longer than ${MAX_SELECTOR_LENGTH} characters`);
  const parser = new Parser(text);
  const requirements: Requirement[] = [];
  parser.skipSpace();
  if (parser.done) return requirements;
  for (;;) {
    requirements.push(parser.requirement());
    parser.skipSpace();
    if (parser.done) return requirements;
    parser.expect(',');
  }
}

/** Whether a set of labels satisfies every requirement (an empty selector matches everything). */
export function matchesSelector(requirements: readonly Requirement[], labels: Readonly<Record<string, string>>): boolean {
  return requirements.every(({ key, operator, values }) => {
    const has = Object.hasOwn(labels, key);
    const value = labels[key];
    switch (operator) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case '=':
      case 'in':
        return has && values.includes(value as string);
      case '!=':
      case 'notin':
        return !has || !values.includes(value as string);
    }
  });
}

class Parser {
  private i = 0;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  get done(): boolean {
    return this.i >= this.text.length;
  }

  skipSpace(): void {
    while (this.i < this.text.length && /\s/.test(this.text[this.i]!)) this.i++;
  }

  expect(token: string): void {
    this.skipSpace();
    if (!this.text.startsWith(token, this.i)) throw new SelectorError(`expected "${token}" at position ${this.i} of "${this.text}"`);
    this.i += token.length;
  }

  requirement(): Requirement {
    this.skipSpace();
    if (this.text[this.i] === '!') {
      this.i++;
      return { key: this.key(), operator: '!exists', values: [] };
    }
    const key = this.key();
    this.skipSpace();
    if (this.done || this.text[this.i] === ',') return { key, operator: 'exists', values: [] };
    if (this.text.startsWith('==', this.i)) return this.equality(key, '=', 2);
    if (this.text.startsWith('!=', this.i)) return this.equality(key, '!=', 2);
    if (this.text[this.i] === '=') return this.equality(key, '=', 1);
    const word = this.word();
    if (word !== 'in' && word !== 'notin') throw new SelectorError(`expected =, ==, !=, in or notin after "${key}", got "${word}"`);
    this.expect('(');
    const values: string[] = [];
    for (;;) {
      const value = this.value();
      if (value === '') throw new SelectorError(`empty value in the set of "${key}"`);
      values.push(value);
      this.skipSpace();
      if (this.text[this.i] === ')') break;
      this.expect(',');
    }
    this.i++;
    return { key, operator: word, values };
  }

  private equality(key: string, operator: '=' | '!=', length: number): Requirement {
    this.i += length;
    return { key, operator, values: [this.value()] };
  }

  private key(): string {
    this.skipSpace();
    const key = this.word();
    if (!KEY.test(key) || key.length > 317) throw new SelectorError(`invalid label key "${key}"`);
    return key;
  }

  private value(): string {
    this.skipSpace();
    const value = this.word();
    if (value.length > 63 || !VALUE.test(value)) throw new SelectorError(`invalid label value "${value}"`);
    return value;
  }

  /** Characters up to the next space, operator or delimiter. */
  private word(): string {
    const start = this.i;
    while (this.i < this.text.length && !/[\s,=!()]/.test(this.text[this.i]!)) this.i++;
    return this.text.slice(start, this.i);
  }
}
