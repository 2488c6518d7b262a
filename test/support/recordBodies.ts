/**
 * Helpers for the record-pipeline tests: feeding a body in chunks
 * and random JSON written in every way the grammar allows (whitespace, number forms, escapes,
 * duplicate keys), with the exact text of each record kept to compare against.
 */

import { RecordParser, type ParsedPage, type RecordParserOptions } from '../../functions/body/RecordParser.js';

/** What a body yields when pushed in chunks: every record's text, and the ended page. */
export interface ChunkedResult {
  readonly records: string[];
  readonly page: ParsedPage;
  /** Largest `heldBytes` seen after any push. */
  readonly maxHeld: number;
}

/** Pushes `body` cut at `cuts` (sorted offsets), then ends; collects every record's bytes as text. */
export function parseInChunks(body: Uint8Array, cuts: readonly number[], options: RecordParserOptions): ChunkedResult {
  const parser = new RecordParser(options);
  const records: string[] = [];
  let from = 0;
  let maxHeld = 0;
  for (const cut of cuts) {
    for (const bytes of parser.push(body.subarray(from, cut))) records.push(Buffer.from(bytes).toString('utf8'));
    maxHeld = Math.max(maxHeld, parser.heldBytes);
    from = cut;
  }
  const page = parser.end(body.subarray(from));
  for (const bytes of page.records) records.push(Buffer.from(bytes).toString('utf8'));
  return { records, page, maxHeld };
}

/** Records of a page as text. */
export function recordTexts(page: ParsedPage): string[] {
  return [...page.records].map((bytes) => bytes.toString('utf8'));
}

/** Random JSON text, written the many ways JSON allows. */
export class RandomJson {
  constructor(private readonly random: () => number) {}

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  private int(max: number): number {
    return Math.floor(this.random() * max);
  }

  /** Optional JSON whitespace (space, tab, LF, CR only). */
  ws(): string {
    if (this.random() < 0.6) return '';
    let out = '';
    for (let n = 1 + this.int(3); n > 0; n--) out += this.pick([' ', '\t', '\n', '\r', '  ']);
    return out;
  }

  number(): string {
    return this.pick([
      () => String(this.int(1000)),
      () => `-${this.int(1000)}`,
      () => '0',
      () => '-0',
      () => `${this.int(100)}.${String(this.int(1000)).padStart(3, '0')}`,
      () => '1.50',
      () => `${1 + this.int(9)}e${this.int(30)}`,
      () => `${1 + this.int(9)}E+${this.int(30)}`,
      () => `-${this.int(9)}.${this.int(9)}e-${this.int(30)}`,
      () => '18446744073709551616',
      () => '9007199254740993',
      () => '-9223372036854775809',
      () => '0.1000000000000000055511151231257827',
      () => '1e400',
    ])();
  }

  string(): string {
    let out = '"';
    for (let n = this.int(12); n > 0; n--) {
      out += this.pick([
        () => this.pick(['a', 'Z', '0', ' ', '-', ']', '}', ',', ':', '[', '{', "'"]),
        () => this.pick(['é', 'ß', '✓', '—', '😀', '中', '\u2028', '\u00a0', '\ufffd']),
        () => this.pick(['\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t']),
        () => this.pick(['\\u00e9', '\\u0000', '\\u001F', '\\uD83D\\uDE00', '\\ud800', '\\uFFFF', '\\u005C', '\\u0022']),
      ])();
    }
    return `${out}"`;
  }

  /** A JSON value at most `depth` levels deep. */
  value(depth: number): string {
    const kind = depth <= 0 ? this.int(5) : this.int(7);
    switch (kind) {
      case 0:
        return this.number();
      case 1:
        return this.string();
      case 2:
        return this.pick(['true', 'false', 'null']);
      case 3:
        return this.number();
      case 4:
        return this.string();
      case 5: {
        const items = Array.from({ length: this.int(4) }, () => `${this.ws()}${this.value(depth - 1)}${this.ws()}`);
        return items.length === 0 ? `[${this.ws()}]` : `[${items.join(',')}]`;
      }
      default: {
        const keys = ['id', 'a', 'b', 'name', 'é', 'data', '__proto__', ''];
        const members = Array.from(
          { length: this.int(4) },
          () => `${this.ws()}${this.random() < 0.8 ? JSON.stringify(this.pick(keys)) : this.string()}${this.ws()}:${this.ws()}${this.value(depth - 1)}${this.ws()}`,
        );
        return members.length === 0 ? `{${this.ws()}}` : `{${members.join(',')}}`;
      }
    }
  }

  /** A page body `{…,"data":[records],…}` and each record's exact text. */
  page(records: number, depth: number): { body: string; records: string[] } {
    const texts = Array.from({ length: records }, () => this.value(depth));
    const array = texts.length === 0 ? `[${this.ws()}]` : `[${texts.map((t) => `${this.ws()}${t}${this.ws()}`).join(',')}]`;
    const before = this.random() < 0.5 ? `${this.ws()}"meta"${this.ws()}:${this.ws()}${this.value(2)}${this.ws()},` : '';
    const after = this.random() < 0.5 ? `,${this.ws()}"next"${this.ws()}:${this.ws()}${this.value(2)}${this.ws()}` : '';
    return { body: `${this.ws()}{${before}${this.ws()}"data"${this.ws()}:${this.ws()}${array}${this.ws()}${after}}${this.ws()}`, records: texts };
  }
}
