import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { BodyDecoder, completeLength, firstInvalidUtf8, Utf8DecodeError } from '../../functions/body/BodyDecoder.js';
import { RESPONSE_ENCODINGS } from '../../functions/config/responseEncoding.js';
import { seededRandom } from '../support/seededRandom.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** Decodes `chunks` in order, then ends; returns the output or the error. */
function decode(encoding: (typeof RESPONSE_ENCODINGS)[number], chunks: Buffer[]): { out: Buffer; decoder: BodyDecoder } {
  const decoder = new BodyDecoder(encoding);
  const parts = chunks.map((chunk, i) => decoder.decode(chunk, i === chunks.length - 1));
  decoder.check();
  return { out: Buffer.concat(parts), decoder };
}

describe('BodyDecoder', () => {
  it('offers exactly the three documented encodings', () => expect(RESPONSE_ENCODINGS).toEqual(['strict', 'latin1', 'replace']));

  it.each([
    ['ASCII', '7b 7d'],
    ['two-byte é', 'c3 a9'],
    ['three-byte ✓', 'e2 9c 93'],
    ['four-byte 😀', 'f0 9f 98 80'],
    ['U+FFFD sent by the API', 'ef bf bd'],
    ['the last code point U+10FFFF', 'f4 8f bf bf'],
  ])('passes valid UTF-8 (%s) through unchanged, split anywhere', (_name, bytes) => {
    const body = hex(bytes);
    for (let cut = 0; cut <= body.length; cut++) {
      const { out, decoder } = decode('strict', [body.subarray(0, cut), body.subarray(cut)]);
      expect(out.equals(body)).toBe(true);
      expect(decoder.stats).toEqual({ bom: false, replacedChars: 0, transcodedChars: 0 });
    }
  });

  it.each([
    ['C3 28 (a lead byte without its continuation)', 'c3 28', 0, 'C3 28'],
    ['FF', '41 ff', 1, 'FF'],
    ['FE', 'fe', 0, 'FE'],
    ['a lone continuation byte', '41 42 80', 2, '80'],
    ['overlong C0 80', 'c0 80', 0, 'C0'],
    ['overlong E0 80 80', 'e0 80 80', 0, 'E0 80'],
    ['a UTF-16 surrogate ED A0 80', 'ed a0 80', 0, 'ED A0'],
    ['past U+10FFFF F4 90 80 80', 'f4 90 80 80', 0, 'F4 90'],
    ['F5', 'f5 80 80 80', 0, 'F5'],
    ['a sequence cut by the end of the body', '41 e2 82', 1, 'E2 82'],
    ['a bad third byte', 'e2 82 41', 0, 'E2 82 41'],
  ])('fails strict decoding on %s, with offset and bytes, split anywhere', (_name, bytes, offset, shown) => {
    const body = hex(bytes);
    for (let cut = 0; cut <= body.length; cut++) {
      const error = (() => {
        try {
          decode('strict', [body.subarray(0, cut), body.subarray(cut)]);
        } catch (e) {
          return e as Utf8DecodeError;
        }
        throw new Error('no error');
      })();
      expect(error).toBeInstanceOf(Utf8DecodeError);
      expect({ offset: error.offset, bytes: error.bytes }).toEqual({ offset, bytes: shown });
    }
  });

  it('returns the valid bytes before an invalid sequence, then fails on check()', () => {
    const decoder = new BodyDecoder('strict');
    expect(decoder.decode(hex('41 42 ff 43')).toString()).toBe('AB');
    expect(decoder.failed).toBe(true);
    expect(() => decoder.check()).toThrow(/invalid UTF-8 at byte 2 \(bytes FF\)/);
    expect(() => decoder.decode(hex('44'))).toThrow(Utf8DecodeError);
  });

  it('skips a UTF-8 BOM split across chunks, and only at the start', () => {
    for (let cut = 0; cut <= 5; cut++) {
      const body = hex('ef bb bf 7b 7d');
      const { out, decoder } = decode('strict', [body.subarray(0, cut), body.subarray(cut)]);
      expect(out.toString()).toBe('{}');
      expect(decoder.stats.bom).toBe(true);
    }
    expect(decode('strict', [hex('7b ef bb bf 7d')]).out.equals(hex('7b ef bb bf 7d'))).toBe(true);
    // Two bytes of a BOM are a cut sequence, not a BOM.
    expect(() => decode('strict', [hex('ef bb')])).toThrow(/byte 0 \(bytes EF BB\)/);
    expect(decode('replace', [hex('ef bb 41')]).decoder.stats).toMatchObject({ bom: false, replacedChars: 1 });
  });

  it('transcodes Latin-1 byte for byte, counting the characters above ASCII', () => {
    const { out, decoder } = decode('latin1', [hex('63 61 66 e9'), hex('20 a9 ff')]);
    expect(out.toString('utf8')).toBe('café ©ÿ');
    expect(decoder.stats.transcodedChars).toBe(3);
    // A Latin-1 body never has a BOM: EF BB BF are three characters.
    expect(decode('latin1', [hex('ef bb bf')]).out.toString()).toBe('ï»¿');
  });

  it('replaces each maximal ill-formed subpart with one U+FFFD, as TextDecoder does', () => {
    const body = hex('41 c3 28 ff fe e2 82 41 f0 9f 98 ef bf bd');
    const expected = new TextDecoder().decode(body);
    for (let cut = 0; cut <= body.length; cut++) {
      const { out, decoder } = decode('replace', [body.subarray(0, cut), body.subarray(cut)]);
      expect(out.toString()).toBe(expected);
      expect(decoder.stats.replacedChars).toBe(5);
    }
  });

  it.each([
    ['', 0],
    ['41', 1],
    ['41 c3', 1],
    ['41 e2 82', 1],
    ['41 f0 9f 98', 1],
    ['41 f0 9f 98 80', 5],
    ['c3 a9', 2],
    ['80 80 80', 3],
    ['ff', 1],
    ['41 f5', 2],
    ['41 c1', 2],
  ])('keeps an unfinished sequence for the next chunk: completeLength(%s) is %i', (bytes, length) => expect(completeLength(hex(bytes))).toBe(length));

  it('finds an invalid sequence exactly when isUtf8 says there is one (random bytes)', () => {
    const random = seededRandom(31337);
    for (let round = 0; round < 5000; round++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 8) }, () => (random() < 0.3 ? 0x41 : 0x80 + Math.floor(random() * 0x80))));
      expect(firstInvalidUtf8(bytes) === undefined).toBe(isUtf8(bytes));
    }
  });
});
