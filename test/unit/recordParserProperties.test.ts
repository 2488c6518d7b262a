import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, ResponseEncodingError } from '../../functions/body/bodyErrors.js';
import { isLosslessNumber } from 'lossless-json';
import { parsePage } from '../../functions/body/RecordParser.js';
import { parseInChunks, RandomJson, recordTexts } from '../support/recordBodies.js';
import { seededRandom } from '../support/seededRandom.js';

/** Random cut points of a body of `length` bytes. */
function randomCuts(random: () => number, length: number): number[] {
  const cuts = new Set<number>();
  for (let n = Math.floor(random() * 8); n > 0; n--) cuts.add(Math.floor(random() * (length + 1)));
  return [...cuts].sort((a, b) => a - b);
}

/** A value with exact numbers as JSON.parse would give it: each LosslessNumber as a float. */
function asFloats(value: unknown): unknown {
  if (isLosslessNumber(value)) return Number(value.value);
  if (Array.isArray(value)) return value.map(asFloats);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: asFloats(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

function outcome(run: () => unknown): string {
  try {
    run();
    return 'ok';
  } catch (error) {
    const e = error as Error & { offset?: number };
    return `${e.name}${e.offset === undefined ? '' : `@${e.offset}`}: ${e.message}`;
  }
}

describe('RecordParser properties on random JSON (seeded, reproducible)', () => {
  it('slices each record exactly as written, and JSON.parse reads the slice as it reads the record in the body', () => {
    const random = seededRandom(20_241_125);
    const json = new RandomJson(random);
    for (let round = 0; round < 400; round++) {
      const { body, records } = json.page(Math.floor(random() * 6), 4);
      const bytes = Buffer.from(body);
      const page = parsePage(bytes, { records: 'data' });
      const texts = recordTexts(page);
      expect(texts).toEqual(records);
      const parsed = JSON.parse(body) as { data: unknown[] };
      expect(texts.map((t): unknown => JSON.parse(t))).toEqual(parsed.data);
      expect(page.recordCount).toBe(parsed.data.length);
      // The part outside the records reads as JSON.parse reads it (numbers compared as text where exact).
      for (const key of ['meta', 'next']) {
        const mine = asFloats((page.body as Record<string, unknown>)[key] ?? null);
        expect(mine).toEqual((parsed as Record<string, unknown>)[key] ?? null);
      }
      // Any chunking gives the same records.
      expect(parseInChunks(bytes, randomCuts(random, bytes.length), { records: 'data' }).records).toEqual(records);
    }
  });

  it('accepts exactly what JSON.parse accepts, and fails at the same byte whole or in chunks', () => {
    const random = seededRandom(7);
    const json = new RandomJson(random);
    const alphabet = '{}[],:"\\ \t\n0123456789-+.eEtrufalsn/xu';
    let rejected = 0;
    for (let round = 0; round < 1500; round++) {
      const { body } = json.page(Math.floor(random() * 4), 3);
      const bytes = Buffer.from(body);
      const mutated = Buffer.from(bytes);
      const at = Math.floor(random() * bytes.length);
      const char = alphabet.charCodeAt(Math.floor(random() * alphabet.length));
      let candidate: Buffer;
      const kind = Math.floor(random() * 3);
      if (kind === 0) candidate = Buffer.concat([mutated.subarray(0, at), mutated.subarray(at + 1)]);
      else if (kind === 1) candidate = Buffer.concat([mutated.subarray(0, at), Buffer.of(char), mutated.subarray(at)]);
      else {
        mutated[at] = char;
        candidate = mutated;
      }
      const whole = outcome(() => parsePage(candidate, { records: '@' }));
      if (!isUtf8(candidate)) {
        // A deletion inside a multi-byte character; a syntax error before it may come first.
        expect(whole).toMatch(/^(ResponseEncodingError|JsonSyntaxError)/);
      } else {
        const jsonParseRejects = outcome(() => JSON.parse(candidate.toString('utf8'))) !== 'ok';
        expect({ body: candidate.toString(), rejected: whole.startsWith('JsonSyntaxError') }).toEqual({ body: candidate.toString(), rejected: jsonParseRejects });
        if (jsonParseRejects) rejected++;
      }
      expect(outcome(() => parseInChunks(candidate, randomCuts(random, candidate.length), { records: '@' }))).toBe(whole);
    }
    // The mutations really exercise the rejecting side.
    expect(rejected).toBeGreaterThan(300);
  });

  it('fails invalid UTF-8 anywhere at its offset, whole or in chunks', () => {
    const random = seededRandom(99);
    const json = new RandomJson(random);
    for (let round = 0; round < 300; round++) {
      const bytes = Buffer.from(json.page(1 + Math.floor(random() * 3), 3).body);
      const at = Math.floor(random() * bytes.length);
      const bad = Buffer.concat([bytes.subarray(0, at), Buffer.of([0xff, 0xc0, 0x80, 0xfe][Math.floor(random() * 4)]!), bytes.subarray(at)]);
      const whole = outcome(() => parsePage(bad, { records: 'data' }));
      // A syntax error before the bad byte may come first; otherwise the bad byte is named.
      // Inserted inside a multi-byte character, the ill-formed sequence starts at its lead byte;
      // an inserted continuation byte may complete a character and strand the next one.
      if (whole.startsWith('ResponseEncodingError')) expect(Number(/@(\d+)/.exec(whole)![1])).toBeGreaterThanOrEqual(at - 3);
      else expect(whole).toMatch(/^JsonSyntaxError@(\d+)/);
      if (whole.startsWith('ResponseEncodingError')) expect(Number(/@(\d+)/.exec(whole)![1])).toBeLessThanOrEqual(at + 3);
      if (whole.startsWith('JsonSyntaxError')) expect(Number(/@(\d+)/.exec(whole)![1])).toBeLessThanOrEqual(at + 1);
      expect(outcome(() => parseInChunks(bad, randomCuts(random, bad.length), { records: 'data' }))).toBe(whole);
    }
  });

  it('replaces exactly as WHATWG decoding does, in any chunking', () => {
    const random = seededRandom(4242);
    for (let round = 0; round < 300; round++) {
      const raw = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 24) }, () => (random() < 0.5 ? 0x61 : 0x80 + Math.floor(random() * 0x80))));
      // Inside a string, so any decoded text is valid JSON (no quote, backslash or control byte).
      const body = Buffer.concat([Buffer.from('["'), raw, Buffer.from('"]')]);
      const expected = `"${new TextDecoder('utf-8').decode(raw)}"`;
      const { records, page } = parseInChunks(body, randomCuts(random, body.length), { records: '@', encoding: 'replace' });
      expect(records).toEqual([expected]);
      expect(page.stats.replacedChars).toBe([...expected].filter((c) => c === '\ufffd').length);
    }
  });

  it('never fails with a stack overflow or a non-apilake error on hostile bodies', () => {
    const hostile = [
      '['.repeat(200_000),
      '{"a":'.repeat(50_000),
      `{"data":[${'{"a":['.repeat(20_000)}`,
      `"${'\\'.repeat(100_001)}`,
      `{"data":["${'\\u'.repeat(10)}"]}`,
      `{"data":[${'1'.repeat(200_000)}]}`,
      `{"data":[-${'0'.repeat(1000)}]}`,
    ];
    for (const body of hostile) {
      for (const cuts of [[], [1, 17, 4096]]) {
        const result = outcome(() => parseInChunks(Buffer.from(body), cuts, { records: 'data' }));
        expect(result).toMatch(/^(ok|JsonSyntaxError|JsonNestingError|RecordsPathError)/);
        expect(result).not.toContain('call stack');
      }
    }
    // A 200,000-digit number is a valid record, kept as sent.
    expect(recordTexts(parsePage(Buffer.from(`{"data":[${'1'.repeat(200_000)}]}`), { records: 'data' }))[0]).toHaveLength(200_000);
  });

  it('reports a syntax error as JsonSyntaxError with its offset', () => {
    const error = (() => {
      try {
        parsePage(Buffer.from('{"data":[1 2]}'), { records: 'data' });
      } catch (e) {
        return e as JsonSyntaxError;
      }
      throw new Error('no error');
    })();
    expect(error).toBeInstanceOf(JsonSyntaxError);
    expect(error.offset).toBe(11);
    expect(error).not.toBeInstanceOf(ResponseEncodingError);
  });
});
