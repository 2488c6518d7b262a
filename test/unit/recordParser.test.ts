import { describe, expect, it } from 'vitest';
import { isLosslessNumber } from 'lossless-json';
import { InvalidJsonError, RecordsPathError } from '../../functions/errors.js';
import { JsonNestingError, JsonSyntaxError, PageTooLargeError, RecordsNotRetainedError, ResponseEncodingError } from '../../functions/body/bodyErrors.js';
import { evaluate, isTruthy } from '../../functions/expressions/evaluate.js';
import { parsePage, RECORD_PARSER_DEFAULTS, RecordParser, type RecordParserOptions } from '../../functions/body/RecordParser.js';
import { parseInChunks, recordTexts } from '../support/recordBodies.js';

const origin = { page: 3, request: 'page 3, GET https://api.test/v1/items', redact: (text: string) => text.replaceAll('tk_secret', '***') };
const bytes = (...values: (string | number[])[]) => Buffer.concat(values.map((v) => (typeof v === 'string' ? Buffer.from(v) : Buffer.from(v))));

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, got none');
}

/** Parses whole, then in every two-chunk split, and checks every way yields the same. */
function parseEveryWay(body: Buffer, options: RecordParserOptions): string[] {
  const whole = recordTexts(parsePage(body, options));
  for (let cut = 0; cut <= body.length; cut++) expect(parseInChunks(body, [cut], options).records).toEqual(whole);
  return whole;
}

describe('RecordParser: each record is the exact bytes the API sent', () => {
  it.each([
    ['number text', '{"data":[1.50,-0,1e3,1E+3,0.0,-0.0e-0,2.5E-5]}', ['1.50', '-0', '1e3', '1E+3', '0.0', '-0.0e-0', '2.5E-5']],
    ['integers past 2^53', '{"data":[9007199254740993,18446744073709551616,-9223372036854775809]}', ['9007199254740993', '18446744073709551616', '-9223372036854775809']],
    ['key order', '{"data":[{"b":1,"a":2,"10":3,"2":4}]}', ['{"b":1,"a":2,"10":3,"2":4}']],
    ['duplicate keys inside a record', '{"data":[{"a":1,"a":2}]}', ['{"a":1,"a":2}']],
    ['escapes', String.raw`{"data":["\u00e9\/\\\"\b\f\n\r\t\ud83d\ude00","\ud800","\u0000"]}`, [String.raw`"\u00e9\/\\\"\b\f\n\r\t\ud83d\ude00"`, String.raw`"\ud800"`, String.raw`"\u0000"`]],
    ['raw UTF-8', '{"data":["café ✓ 😀 中","\u2028"]}', ['"café ✓ 😀 中"', '"\u2028"']],
    ['whitespace inside records', '{"data":[ {\n\t"a" : [ 1 , 2 ] \r\n} ]}', ['{\n\t"a" : [ 1 , 2 ] \r\n}']],
    ['whitespace around records', ' \n{ "data" :\t[ 1 ,\r\n2 ] } \n', ['1', '2']],
    ['brackets and commas inside strings', '{"data":["]", "}", ",", "[{", "\\"]"]}', ['"]"', '"}"', '","', '"[{"', '"\\"]"']],
    ['every JSON type', '{"data":[{},[],[[]],"",0,true,false,null,{"a":{"b":[{}]}}]}', ['{}', '[]', '[[]]', '""', '0', 'true', 'false', 'null', '{"a":{"b":[{}]}}']],
    ['an empty records array', '{"data":[],"meta":{"has_more":false}}', []],
  ])('keeps %s', (_name, body, expected) => {
    expect(parseEveryWay(Buffer.from(body), { records: 'data' })).toEqual(expected);
  });

  it('reads a body whose records are the root array (records: "@")', () => {
    expect(parseEveryWay(Buffer.from('[{"id":1},{"id":2}]'), { records: '@' })).toEqual(['{"id":1}', '{"id":2}']);
  });

  it('skips a UTF-8 byte order mark and says so', () => {
    const page = parsePage(bytes([0xef, 0xbb, 0xbf], '{"data":[1]}'), { records: 'data' });
    expect(recordTexts(page)).toEqual(['1']);
    expect(page.stats.bom).toBe(true);
  });

  it.each([
    ['data', '{"meta":{"data":[0]},"data":[1],"more":{"data":[2]}}', ['1']],
    ['data', '{"x":[{"data":[0]}],"dat":[9],"data2":[8],"data":[1]}', ['1']],
    ['data', String.raw`{"d\u0061ta":[1]}`, ['1']],
    ['data.items', '{"data":{"total":2,"items":[1,2]}}', ['1', '2']],
    ['data . items', '{"data":{"items":[1,2]}}', ['1', '2']],
    ['a.b.c', '{"a":{"x":1,"b":{"c":["deep"]}}}', ['"deep"']],
    ['"odd key".items', '{"odd key":{"items":[true]}}', ['true']],
    ['"é"', '{"é":[1]}', ['1']],
    ['results', '{"count":1,"results":[{"id":1}]}', ['{"id":1}']],
  ])('follows the records path %s', (path, body, expected) => {
    expect(parseEveryWay(Buffer.from(body), { records: path })).toEqual(expected);
  });

  it('counts records and bytes in the stats', () => {
    const page = parsePage(Buffer.from('{"data":[1.50,"ab"]}'), { records: 'data' });
    expect(page.recordCount).toBe(2);
    expect(page.stats).toMatchObject({ bytes: 20, records: 2, recordBytes: 8, encoding: 'strict', bom: false, replacedChars: 0, transcodedChars: 0, reserialisedRecords: 0 });
  });
});

describe('RecordParser: the body for pagination expressions', () => {
  const body = Buffer.from('{"meta":{"next_cursor":"c2","total":12345678901234567890,"small":3},"data":[{"id":1,"ok":true},{"id":9007199254740993,"ok":false}],"has_more":true}');

  it.each([
    ['meta.next_cursor', 'c2'],
    ['meta.total', '12345678901234567890'],
    ['meta.small', 3],
    ['data[-1].id', '9007199254740993'],
    ['data[0].id', 1],
    ['length(data)', 2],
    ['data[*].ok', [true, false]],
    ['data[?ok].id', [1]],
    ['has_more', true],
    ['!has_more', false],
  ])('evaluates %s exactly', (expression, expected) => {
    const whole = parsePage(body, { records: 'data' });
    expect(evaluate(expression, whole.body)).toEqual(expected);
    const streamed = parseInChunks(body, [7, 40, 90], { records: 'data' }).page;
    expect(evaluate(expression, streamed.body)).toEqual(expected);
  });

  it('shows the records array as an array (truthy when not empty)', () => {
    expect(isTruthy(evaluate('data', parsePage(body, { records: 'data' }).body))).toBe(true);
    expect(isTruthy(evaluate('data', parsePage(Buffer.from('{"data":[]}'), { records: 'data' }).body))).toBe(false);
    expect(Array.isArray(parsePage(Buffer.from('[1,2]'), { records: '@' }).body)).toBe(true);
  });

  it('keeps a records key named __proto__ as data, as JSON.parse does', () => {
    const page = parsePage(Buffer.from('{"__proto__":[{"id":7}]}'), { records: '"__proto__"' });
    expect(recordTexts(page)).toEqual(['{"id":7}']);
    expect(evaluate('"__proto__"[0].id', page.body)).toBe(7);
    expect(Object.getPrototypeOf(page.body)).toBe(Object.prototype);
  });

  it('keeps only the first and last records of a page streamed past retainBytes, and says so', () => {
    const records = Array.from({ length: 50 }, (_, i) => `{"id":${i},"pad":"${'x'.repeat(100)}"}`);
    const big = Buffer.from(`{"data":[${records.join(',')}],"next":"n"}`);
    const { page } = parseInChunks(big, [1000, 2000, 3000, 4000], { records: 'data', retainBytes: 1024 });
    expect(evaluate('data[0].id', page.body)).toBe(0);
    expect(evaluate('data[-1].id', page.body)).toBe(49);
    expect(evaluate('length(data)', page.body)).toBe(50);
    expect(evaluate('next', page.body)).toBe('n');
    expect(() => evaluate('data[1].id', page.body)).toThrow(RecordsNotRetainedError);
  });

  it('reads duplicate keys as JSON.parse does (the last wins) even beside numbers past 2^53', () => {
    // lossless-json, used today for such pages, throws "Duplicate key" here.
    const page = parsePage(Buffer.from('{"meta":{"a":1,"a":2,"n":12345678901234567890},"data":[{"x":1,"x":9007199254740993}]}'), { records: 'data' });
    expect(evaluate('meta.a', page.body)).toBe(2);
    expect(evaluate('meta.n', page.body)).toBe('12345678901234567890');
    expect(evaluate('data[0].x', page.body)).toBe('9007199254740993');
    expect(recordTexts(page)).toEqual(['{"x":1,"x":9007199254740993}']);
  });

  it('gives each record value with numbers exact, parsed only on request', () => {
    const { records } = parsePage(Buffer.from('{"data":[{"id":9007199254740993,"f":1.50},{"id":2,"f":49.285714285714285}]}'), { records: 'data' });
    const first = records.value(0) as { id: unknown; f: unknown };
    expect(isLosslessNumber(first.id)).toBe(true);
    expect(String(first.id)).toBe('9007199254740993');
    expect(first.f).toBe(1.5);
    expect(records.hasUnsafeNumber(0)).toBe(true);
    // A long float that a double holds exactly does not need the slow exact parser.
    expect(records.hasUnsafeNumber(1)).toBe(false);
    expect(records.value(1)).toEqual({ id: 2, f: 49.285714285714285 });
  });
});

describe('RecordParser: records expressions that are not key paths (tree fallback)', () => {
  const body = Buffer.from('{"data":[{"t":"a","id":1.50,"items":[{"k":1}]},{"t":"b","id":2,"items":[]},{"t":"a","id":3e0,"items":[{"k":2},{"k":3}]}]}');

  it.each([
    ["data[?t=='a']", ['{"t":"a","id":1.50,"items":[{"k":1}]}', '{"t":"a","id":3e0,"items":[{"k":2},{"k":3}]}'], 0],
    ['data[].items[]', ['{"k":1}', '{"k":2}', '{"k":3}'], 0],
    ['sort_by(data, &t)', ['{"t":"a","id":1.50,"items":[{"k":1}]}', '{"t":"a","id":3e0,"items":[{"k":2},{"k":3}]}', '{"t":"b","id":2,"items":[]}'], 0],
    ['data[1:]', ['{"t":"b","id":2,"items":[]}', '{"t":"a","id":3e0,"items":[{"k":2},{"k":3}]}'], 0],
    ['data[*].id', ['1.5', '2', '3'], 3],
    ['data[*].{id: id}', ['{"id":1.5}', '{"id":2}', '{"id":3}'], 3],
  ])('selects %s, landing selected objects as their bytes', (expression, expected, reserialised) => {
    const page = parsePage(body, { records: expression });
    expect(recordTexts(page)).toEqual(expected);
    expect(page.stats.reserialisedRecords).toBe(reserialised);
    expect(parseInChunks(body, [5, 50, 100], { records: expression }).records).toEqual(expected);
  });

  it('gives the whole parsed body to pagination expressions', () => {
    const page = parsePage(body, { records: "data[?t=='a']" });
    expect(evaluate('length(data)', page.body)).toBe(3);
    expect(page.records.value(1)).toEqual({ t: 'a', id: 3, items: [{ k: 2 }, { k: 3 }] });
  });

  it('fails if the expression does not select an array', () => {
    expect(() => parsePage(body, { records: 'data[0]', origin })).toThrow(/records path "data\[0\]" points at an object/);
  });
});

describe('RecordParser: located errors', () => {
  it.each([
    ['trailing comma in an array', '{"data":[1,]}', "unexpected ']' at byte 11, expected a value"],
    ['trailing comma in an object', '{"data":[{"a":1,}]}', "unexpected '}' at byte 16, expected a string key"],
    ['single quotes', "{'data':[]}", "unexpected ''' at byte 1"],
    ['NaN', '{"data":[NaN]}', "unexpected 'N' at byte 9, expected a value"],
    ['Infinity', '{"data":[Infinity]}', "unexpected 'I' at byte 9"],
    ['a leading zero', '{"data":[01]}', "unexpected '1' at byte 10, expected ',' or ']'"],
    ['a plus sign', '{"data":[+1]}', "unexpected '+' at byte 9"],
    ['a bare decimal point', '{"data":[.5]}', "unexpected '.' at byte 9"],
    ['a number ending in a point', '{"data":[1.]}', "unexpected ']' at byte 11, expected a digit after the decimal point"],
    ['an empty exponent', '{"data":[1e]}', "unexpected ']' at byte 11, expected a digit in the exponent"],
    ['a misspelt literal', '{"data":[ture]}', 'unexpected \'u\' at byte 10, expected "true"'],
    ['an unterminated string', '{"data":["abc', 'the body ends at byte 13 inside a string that starts at byte 9'],
    ['a raw newline in a string', '{"data":["a\nb"]}', 'control character 0x0A inside a string at byte 11'],
    ['a bad escape', '{"data":["\\x"]}', "bad escape at byte 10: \\'x' is not a JSON escape"],
    ['a short unicode escape', '{"data":["\\u12"]}', "bad \\u escape at byte 10: expected 4 hex digits, got '\"'"],
    ['a comment', '{"data":[] // done\n}', "unexpected '/' at byte 11, expected ',' or '}'"],
    ['trailing garbage', '{"data":[]} x', "unexpected 'x' at byte 12, expected the end of the body"],
    ['two roots', '{"data":[]}{}', "unexpected '{' at byte 11, expected the end of the body"],
    ['an unclosed object', '{"data":[1]', "the body ends at byte 11, expected ',' or '}'"],
    ['a missing colon', '{"data" []}', "unexpected '[' at byte 8, expected ':'"],
    ['a non-string key', '{1:[]}', "unexpected '1' at byte 1, expected a string key or '}'"],
    ['a no-break space as whitespace', '{"data":\u00a0[]}', 'unexpected U+00A0 at byte 8, expected a value'],
    ['a form feed as whitespace', '{"data":\f[]}', 'unexpected byte 0x0C at byte 8, expected a value'],
    ['a vertical tab as whitespace', '{"data":\v[]}', 'unexpected byte 0x0B at byte 8, expected a value'],
    ['an empty body', '', 'the body holds no JSON value (0 bytes, all whitespace)'],
    ['a whitespace-only body', ' \r\n\t', 'the body holds no JSON value (4 bytes, all whitespace)'],
  ])('fails on %s, saying where', (_name, body, message) => {
    for (const cuts of [[], [1], [Math.floor(body.length / 2)], Array.from({ length: Buffer.byteLength(body) }, (_, i) => i)]) {
      const error = errorOf(() => parseInChunks(Buffer.from(body), cuts, { records: 'data', origin }));
      expect(error).toBeInstanceOf(JsonSyntaxError);
      expect(error).toBeInstanceOf(InvalidJsonError);
      expect(error.message).toContain(message);
      expect(error.message).toMatch(/^page 3: response body is not valid JSON: /);
      expect(error.message.endsWith('(page 3, GET https://api.test/v1/items)')).toBe(true);
    }
  });

  it('agrees with JSON.parse on what is valid: every case above is rejected by JSON.parse too', () => {
    for (const body of ['{"data":[1,]}', '{"data":[01]}', '{"data":["a\nb"]}', '{"data":\u00a0[]}', '{"data":\f[]}', '']) expect(() => void JSON.parse(body)).toThrow(SyntaxError);
  });

  it('quotes the body near the problem only through the redactor', () => {
    const withRedactor = errorOf(() => parsePage(Buffer.from('{"token":"tk_secret","data":[1,]}'), { records: 'data', origin }));
    expect(withRedactor.message).toContain('near "');
    expect(withRedactor.message).toContain('***');
    expect(withRedactor.message).not.toContain('tk_secret');
    const without = errorOf(() => parsePage(Buffer.from('{"token":"tk_secret","data":[1,]}'), { records: 'data', origin: { page: 1, request: 'GET /x' } }));
    expect(without.message).not.toContain('tk_secret');
    expect(without.message).not.toContain('near');
  });

  it.each([
    ['missing', '{"error":"quota exceeded"}', 'data', 'records path "data" is missing from the response; top-level keys: error'],
    ['null', '{"data":null}', 'data', 'records path "data" is missing from the response'],
    ['an object', '{"data":{"id":1}}', 'data', 'records path "data" points at an object, expected an array of records'],
    ['a string', '{"data":"none"}', 'data', 'records path "data" points at a string ("none"), expected an array of records'],
    ['a number', '{"data":12345678901234567890}', 'data', 'records path "data" points at a string ("12345678901234567890")'],
    ['the root object', '{"data":[]}', '@', 'records path "@" points at an object'],
    ['an array on the way', '{"data":[{"items":[]}]}', 'data.items', 'records path "data.items" is missing'],
    ['a duplicate records key', '{"data":[1],"data":[2]}', 'data', 'records path "data" is ambiguous: key "data" appears twice in one object (at bytes 1 and 12)'],
    ['a duplicate key on the way', '{"data":{"items":[1]},"data":5}', 'data.items', 'key "data" appears twice'],
    ['a duplicate written with an escape', String.raw`{"data":[1],"d\u0061ta":[2]}`, 'data', 'key "data" appears twice'],
  ])('fails if the records path is %s', (_name, body, path, message) => {
    for (const cuts of [[], [9]]) {
      const error = errorOf(() => parseInChunks(Buffer.from(body), cuts, { records: path, origin }));
      expect(error).toBeInstanceOf(RecordsPathError);
      expect(error.message).toContain(message);
      expect(error.message).toMatch(/^page 3: /);
    }
  });

  it('fails on nesting deeper than the limit with a located error, not a stack overflow', () => {
    const deep = (levels: number) => Buffer.from(`{"data":[${'['.repeat(levels)}${']'.repeat(levels)}]}`);
    // 2 levels are the object and the records array.
    expect(recordTexts(parsePage(deep(RECORD_PARSER_DEFAULTS.maxDepth - 2), { records: 'data' }))).toHaveLength(1);
    const error = errorOf(() => parsePage(deep(RECORD_PARSER_DEFAULTS.maxDepth - 1), { records: 'data', origin }));
    expect(error).toBeInstanceOf(JsonNestingError);
    expect(error.message).toBe(`page 3: response body nests arrays/objects deeper than 512 levels at byte ${9 + 510}; apilake refuses deeper JSON (page 3, GET https://api.test/v1/items)`);
    expect((error as JsonNestingError).offset).toBe(519);
  });

  it.each([
    ['100k arrays', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, '@'],
    ['100k objects', `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`, 'a'],
    ['100k unclosed arrays', '['.repeat(100_000), '@'],
  ])('fails on %s with JsonNestingError in whole and streamed bodies', (_name, body, path) => {
    for (const cuts of [[], [4096, 65_536]]) expect(errorOf(() => parseInChunks(Buffer.from(body), cuts, { records: path }))).toBeInstanceOf(JsonNestingError);
  });

  it('applies a smaller nesting limit when asked', () => {
    expect(errorOf(() => parsePage(Buffer.from('{"data":[[1]]}'), { records: 'data', maxDepth: 2 }))).toBeInstanceOf(JsonNestingError);
  });

  it('fails a body larger than max_page_mb as soon as it is exceeded', () => {
    const parser = new RecordParser({ records: 'data', maxPageBytes: 100, origin });
    parser.push(Buffer.from(`{"data":[${'1,'.repeat(40)}`));
    const error = errorOf(() => parser.push(Buffer.from('1,'.repeat(20))));
    expect(error).toBeInstanceOf(PageTooLargeError);
    expect(error.message).toContain('page 3: response body is larger than max_page_mb (100 bytes): 129 bytes received so far');
    expect(RECORD_PARSER_DEFAULTS.maxPageBytes).toBe(256 * 1024 * 1024);
    expect(errorOf(() => parsePage(Buffer.alloc(101, 0x20), { records: 'data', maxPageBytes: 100 }))).toBeInstanceOf(PageTooLargeError);
  });

  it('fails a streamed body whose part outside the records array is too large', () => {
    const body = Buffer.from(`{"meta":"${'m'.repeat(5000)}","data":[1]}`);
    const error = errorOf(() => parseInChunks(body, [1000, 2000, 3000], { records: 'data', maxOutsideBytes: 4096, origin }));
    expect(error).toBeInstanceOf(PageTooLargeError);
    expect(error.message).toContain('outside the records array is larger than 4096 bytes');
  });

  it('fails a large streamed body whose records path is never found, saying the path was not found', () => {
    const body = Buffer.from(`[${'1,'.repeat(4000)}1]`);
    const error = errorOf(() => parseInChunks(body, [1000, 2000, 3000, 6000], { records: 'data', maxOutsideBytes: 4096, origin }));
    expect(error).toBeInstanceOf(PageTooLargeError);
    expect(error.message).toContain('records path "data" not found in them');
  });

  it('keeps failing after an error instead of reading on from a broken state', () => {
    const parser = new RecordParser({ records: 'data' });
    const first = errorOf(() => parser.push(Buffer.from('{"data":[1,,')));
    expect(first).toBeInstanceOf(JsonSyntaxError);
    expect(errorOf(() => parser.push(Buffer.from('2]}')))).toBe(first);
    expect(errorOf(() => parser.end())).toBe(first);
  });

  it('does not depend on the chunk memory after push returns (the caller may reuse it)', () => {
    const parser = new RecordParser({ records: 'data' });
    const chunk = Buffer.from('{"data":[{"a":"xy');
    parser.push(chunk);
    chunk.fill(0x20);
    expect(recordTexts(parser.end(Buffer.from('z"}]}')))).toEqual(['{"a":"xyz"}']);
  });

  it('refuses a max_page_mb its 32-bit offsets cannot address', () => {
    expect(() => new RecordParser({ records: 'data', maxPageBytes: 2 ** 32 })).toThrow(RangeError);
  });

  it('refuses to be used after end()', () => {
    const parser = new RecordParser({ records: '@' });
    parser.end(Buffer.from('[]'));
    expect(() => parser.push(Buffer.from('1'))).toThrow(/after end/);
    expect(() => parser.end()).toThrow(/twice/);
  });
});

describe('RecordParser: response_encoding', () => {
  it.each([
    ['Latin-1 café in a record', bytes('{"data":["caf', [0xe9], '"]}'), 13, 'E9 22'],
    ['C3 28 FF FE in a record', bytes('{"data":["', [0xc3, 0x28, 0xff, 0xfe], '"]}'), 10, 'C3 28'],
    ['an invalid byte at the start', bytes([0xff], '{"data":[]}'), 0, 'FF'],
    ['an invalid byte at the end', bytes('{"data":[]}', [0x80]), 11, '80'],
    ['a truncated sequence at the end', bytes('{"data":[]}', [0xe2, 0x82]), 11, 'E2 82'],
    ['an invalid key outside the records', bytes('{"m', [0xe9], '":1,"data":[]}'), 3, 'E9 22'],
    ['an overlong encoding', bytes('{"data":["', [0xc0, 0x80], '"]}'), 10, 'C0'],
    ['an encoded surrogate', bytes('{"data":["', [0xed, 0xa0, 0x80], '"]}'), 10, 'ED A0'],
    ['a code point past U+10FFFF', bytes('{"data":["', [0xf4, 0x90, 0x80, 0x80], '"]}'), 10, 'F4 90'],
    ['a lone continuation byte', bytes('{"data":[1,', [0x80], ']}'), 11, '80'],
  ])('fails on %s (strict, the default), naming the byte offset', (_name, body, offset, shown) => {
    for (let cut = 0; cut <= body.length; cut++) {
      const error = errorOf(() => parseInChunks(body, [cut], { records: 'data', origin }));
      expect(error).toBeInstanceOf(ResponseEncodingError);
      expect((error as ResponseEncodingError).offset).toBe(offset);
      expect(error.message).toContain(`page 3: response body is not valid UTF-8 at byte ${offset} (bytes ${shown})`);
      expect(error.message).toContain('set it to latin1');
    }
  });

  it('hints at UTF-16 when the body starts with its byte order mark', () => {
    const body = Buffer.from('\ufeff{"data":[]}', 'utf16le');
    expect(errorOf(() => parsePage(body, { records: 'data' })).message).toContain('starts with a UTF-16 byte order mark');
  });

  it('counts the BOM in the offsets it reports', () => {
    const error = errorOf(() => parsePage(bytes([0xef, 0xbb, 0xbf], '{"data":[1,]}'), { records: 'data' })) as JsonSyntaxError;
    expect(error.offset).toBe(14);
  });

  it('transcodes Latin-1 when response_encoding is latin1, counting the characters', () => {
    const body = bytes('{"data":["caf', [0xe9], ' cr', [0xe8, 0x6d, 0x65], '", "', [0xa9], '"]}');
    for (let cut = 0; cut <= body.length; cut++) {
      const { records, page } = parseInChunks(body, [cut], { records: 'data', encoding: 'latin1' });
      expect(records).toEqual(['"café crème"', '"©"']);
      expect(page.stats.transcodedChars).toBe(3);
    }
  });

  it('replaces invalid sequences with U+FFFD when response_encoding is replace, counting them', () => {
    const body = bytes('{"data":["', [0xc3, 0x28, 0xff, 0xfe], '","ok \ufffd"]}');
    for (let cut = 0; cut <= body.length; cut++) {
      const { records, page } = parseInChunks(body, [cut], { records: 'data', encoding: 'replace' });
      expect(records).toEqual(['"\ufffd(\ufffd\ufffd"', '"ok \ufffd"']);
      // The U+FFFD the API itself sent is not counted.
      expect(page.stats.replacedChars).toBe(3);
    }
  });

  it('changes nothing in a valid body whatever the encoding option (except latin1, which is a declaration)', () => {
    const body = Buffer.from('{"data":["café ✓"]}');
    for (const encoding of ['strict', 'replace'] as const) {
      const page = parsePage(body, { records: 'data', encoding });
      expect(recordTexts(page)).toEqual(['"café ✓"']);
      expect(page.stats.replacedChars).toBe(0);
    }
  });
});

describe('RecordParser: chunks split anywhere', () => {
  const body = Buffer.from(
    ' {"meta":{"cursor":"é✓😀","n":-1.5e+3},"data":[{"id":1,"s":"a\\"b\\\\c\\u00e9\\ud83d\\ude00","n":[1.50,-0,true,false,null]},"😀中",12345678901234567890,[],{}],"next":null} ',
  );
  const expected = ['{"id":1,"s":"a\\"b\\\\c\\u00e9\\ud83d\\ude00","n":[1.50,-0,true,false,null]}', '"😀中"', '12345678901234567890', '[]', '{}'];

  it('yields the same records for every split into two chunks', () => {
    for (let cut = 0; cut <= body.length; cut++) expect(parseInChunks(body, [cut], { records: 'data' }).records).toEqual(expected);
  });

  it('yields the same records for every split into three chunks', () => {
    for (let a = 0; a <= body.length; a += 3) for (let b = a; b <= body.length; b += 5) expect(parseInChunks(body, [a, b], { records: 'data' }).records).toEqual(expected);
  });

  it('yields the same records, body and stats from one-byte chunks', () => {
    const cuts = Array.from({ length: body.length }, (_, i) => i);
    const { records, page } = parseInChunks(body, cuts, { records: 'data' });
    expect(records).toEqual(expected);
    const whole = parsePage(body, { records: 'data' });
    expect(page.stats).toEqual(whole.stats);
    expect(JSON.stringify(page.body)).toBe(JSON.stringify(whole.body));
    expect(evaluate('meta.cursor', page.body)).toBe('é✓😀');
  });

  it('returns records as soon as a chunk completes them', () => {
    const parser = new RecordParser({ records: 'data' });
    expect(parser.push(Buffer.from('{"data":[{"a":1},{"b"')).count).toBe(1);
    expect(parser.recordCount).toBe(1);
    const batch = parser.push(Buffer.from(':2},3'));
    expect([...batch].map(String)).toEqual(['{"b":2}']);
    const page = parser.end(Buffer.from(']}'));
    expect(recordTexts(page)).toEqual(['3']);
    expect(page.recordCount).toBe(3);
  });

  it('reads a long string spread over many chunks in linear time (held bytes stay near the string size)', () => {
    const long = 'x'.repeat(1_000_000);
    const big = Buffer.from(`{"data":["${long}"]}`);
    const cuts = Array.from({ length: Math.floor(big.length / 1000) }, (_, i) => (i + 1) * 1000);
    const { records, maxHeld } = parseInChunks(big, cuts, { records: 'data' });
    expect(records[0]!.length).toBe(long.length + 2);
    expect(maxHeld).toBeLessThan(3 * big.length);
  });
});
