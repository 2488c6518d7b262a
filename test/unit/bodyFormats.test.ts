import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { formatSchema, type FormatConfig } from '../../functions/config/formatSchema.js';
import { BodyFormatError, JsonSyntaxError, RecordTooLargeError } from '../../functions/body/bodyErrors.js';
import { readPageBody, type PageReading } from '../../functions/body/readPageBody.js';
import { zipArchive } from '../support/zipArchive.js';

const origin = { page: 2, request: 'page 2, GET https://api.test/export' };
type Reading = Omit<PageReading, 'records'> & { readonly records?: string };
const format = (written: unknown): FormatConfig => formatSchema.parse(written);

/** Reads `body` in chunks cut at `cuts`, returning each record's text. */
async function read(body: Buffer, reading: Reading, cuts: number[] = []): Promise<string[]> {
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, body.length]) {
    chunks.push(body.subarray(from, cut));
    from = cut;
  }
  const page = await readPageBody(
    { headers: new Headers(), body: Readable.from(chunks.filter((chunk) => chunk.length > 0)) as AsyncIterable<Uint8Array>, discard: () => undefined },
    { records: '@', ...reading },
    origin,
  );
  const texts = page.batches.flatMap((batch) => Array.from({ length: batch.count }, (_, i) => batch.text(i)));
  expect(page.recordCount).toBe(texts.length);
  return texts;
}

/** Reads whole, then cut at every byte, and checks every way yields the same records. */
async function readEveryWay(body: string | Buffer, reading: Reading): Promise<string[]> {
  const bytes = Buffer.from(body);
  const whole = await read(bytes, reading);
  for (let cut = 1; cut < bytes.length; cut++) expect(await read(bytes, reading, [cut])).toEqual(whole);
  return whole;
}

async function failure(body: string | Buffer, reading: Reading): Promise<Error> {
  try {
    await read(Buffer.from(body), reading);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, got none');
}

describe('format: jsonl', () => {
  it.each([
    ['lines as their exact bytes', '{"b":1, "a":2}\n[1.50]\n"x"\n', ['{"b":1, "a":2}', '[1.50]', '"x"']],
    ['CRLF line breaks and a last line without one', '{"a":1}\r\n{"a":2}', ['{"a":1}', '{"a":2}']],
    ['blank lines skipped', '\n{"a":1}\n  \n\n{"a":2}\n\n', ['{"a":1}', '{"a":2}']],
    ['an empty body', '', []],
    ['a byte order mark', '\ufeff{"a":1}\n', ['{"a":1}']],
  ])('reads %s', async (_, body, records) => {
    expect(await readEveryWay(body, { format: format('jsonl') })).toEqual(records);
  });

  it('fails if a line is not one JSON value, naming the line', async () => {
    const error = await failure('{"a":1}\n{"a":2} {"b":3}\n', { format: format('jsonl') });
    expect(error).toBeInstanceOf(JsonSyntaxError);
    expect(error.message).toMatch(/line 2 is not one JSON value/);
  });

  it('fails if a line is larger than max_page_mb', async () => {
    const error = await failure(`{"a":"${'x'.repeat(100)}"}\n`, { format: format('jsonl'), maxPageBytes: 50 });
    expect(error).toBeInstanceOf(RecordTooLargeError);
    expect(error.message).toMatch(/line 1 is larger than max_page_mb/);
  });

  it('names a bad line of a file taken up mid-way by its byte in the file, which it knows, not by a number it does not', async () => {
    // The rest of a file from byte 1000: its lines before are not counted here.
    const syntax = await failure('{"a":1}\n{"a":2} {"b":3}\n', { format: format('jsonl'), fileOffset: 1000 });
    expect(syntax).toBeInstanceOf(JsonSyntaxError);
    expect(syntax.message).toMatch(/the line at byte 1008 of the file is not one JSON value/);
    const large = await failure(`{"a":1}\n{"a":"${'x'.repeat(100)}"}\n`, { format: format('jsonl'), fileOffset: 1000, maxPageBytes: 50 });
    expect(large).toBeInstanceOf(RecordTooLargeError);
    expect(large.message).toMatch(/the line at byte 1008 of the file is larger than max_page_mb/);
  });
});

describe('format: csv', () => {
  it.each([
    ['rows as objects of strings in header order', 'b,a\n1,x\n2,y\n', 'csv', ['{"b":"1","a":"x"}', '{"b":"2","a":"y"}']],
    ['quoted fields with delimiters, line breaks and doubled quotes', 'id,text\r\n1,"a, ""b""\r\nc"\r\n', 'csv', ['{"id":"1","text":"a, \\"b\\"\\r\\nc"}']],
    ['empty fields', 'a,b,c\n,,\n1,"",3', 'csv', ['{"a":"","b":"","c":""}', '{"a":"1","b":"","c":"3"}']],
    ['empty lines skipped', 'a\n\n1\n\n2\n', 'csv', ['{"a":"1"}', '{"a":"2"}']],
    ['a header only', 'a,b\n', 'csv', []],
    ['JSON escapes of control characters, backslashes and UTF-8', 'k\n"tab\there \\ café ✓"\n', 'csv', ['{"k":"tab\\there \\\\ café ✓"}']],
    ['a quote inside an unquoted field as text', 'k\nsay "hi"\n', 'csv', ['{"k":"say \\"hi\\""}']],
    ['another delimiter', 'a;b\n1,5;2\n', { type: 'csv', delimiter: ';' }, ['{"a":"1,5","b":"2"}']],
    ['a tab delimiter', 'a\tb\n1\t2\n', { type: 'csv', delimiter: '\t' }, ['{"a":"1","b":"2"}']],
    ['another quote', "a,b\n'x,y',z\n", { type: 'csv', quote: "'" }, ['{"a":"x,y","b":"z"}']],
  ])('reads %s', async (_, body, written, records) => {
    const texts = await readEveryWay(body, { format: format(written) });
    expect(texts).toEqual(records);
    for (const text of texts) expect(() => JSON.parse(text) as unknown).not.toThrow();
  });

  it('keeps every row of a large body intact while later rows fill the buffers its batches view, a row longer than a buffer too', async () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => ({ id: String(i), text: i === 12_345 ? 'x'.repeat(1_500_000) : `"row" ${i}, ${'y'.repeat(i % 300)}` }));
    const body = Buffer.from(`id,text\r\n${rows.map((r) => `${r.id},"${r.text.replaceAll('"', '""')}"\r\n`).join('')}`);
    const cuts = Array.from({ length: Math.floor(body.length / 65_536) }, (_, k) => (k + 1) * 65_536);
    expect(await read(body, { format: format('csv') }, cuts)).toEqual(rows.map((r) => JSON.stringify(r)));
  });

  it.each([
    ['a row with more fields than the header', 'a,b\n1,2\n1,2,3\n', /row 3 has more fields than the header's 2/],
    ['a row with fewer fields than the header', 'a,b\n1\n', /row 2 has 1 fields, the header 2/],
    ['a header naming a column twice', 'a,a\n1,2\n', /the header names column "a" twice/],
    ['text after a closing quote', 'a\n"x"y\n', /row 2, field 1: "y" after the closing quote/],
    ['a body ending inside a quoted field', 'a\n"x\n', /the body ends inside a quoted field of row 2/],
  ])('fails if it has %s, naming the row', async (_, body, message) => {
    const error = await failure(body, { format: format('csv') });
    expect(error).toBeInstanceOf(BodyFormatError);
    expect(error.message).toMatch(/^page 2: response body is not valid CSV: /);
    expect(error.message).toMatch(message);
  });
});

describe('format: xml', () => {
  const reading = { format: format({ type: 'xml', records: 'feed/entry' }) };
  it.each([
    ['children as text, attributes as @keys', '<feed><entry id="1"><title>A &amp; B</title><empty/></entry></feed>', ['{"@id":"1","title":"A & B","empty":""}']],
    ['repeated children as arrays', '<feed><entry><tag>a</tag><tag>b</tag></entry><entry><tag>c</tag></entry></feed>', ['{"tag":["a","b"]}', '{"tag":"c"}']],
    ['text beside attributes as #text, CDATA included', '<feed><entry><n unit="kg">1<![CDATA[<2>]]></n></entry></feed>', ['{"n":{"@unit":"kg","#text":"1<2>"}}']],
    ['elements outside the record path dropped', '<?xml version="1.0"?><feed><title>x</title><entry><a>1</a></entry><other><entry><a>2</a></entry></other></feed>', ['{"a":"1"}']],
  ])('reads %s', async (_, body, records) => {
    expect(await readEveryWay(body, reading)).toEqual(records);
  });

  it('fails if the XML is not well-formed, with line and column', async () => {
    const error = await failure('<feed>\n<entry></feed>', reading);
    expect(error).toBeInstanceOf(BodyFormatError);
    expect(error.message).toMatch(/not valid XML: 2:\d+/);
  });
});

describe('gzip and zip bodies', () => {
  const csv = format('csv');
  it('reads a gzip file as the format inside it', async () => {
    expect(await read(gzipSync('a,b\n1,2\n3,4\n'), { format: csv }, [1, 7])).toEqual(['{"a":"1","b":"2"}', '{"a":"3","b":"4"}']);
  });

  it('reads a gzip file of several members as one document', async () => {
    const body = Buffer.concat([gzipSync('{"a":1}\n{"a"'), gzipSync(':2}\n')]);
    expect(await read(body, { format: format('jsonl') })).toEqual(['{"a":1}', '{"a":2}']);
  });

  it('reads every file of a zip archive in order, each with its own header', async () => {
    const body = zipArchive([
      { name: 'part-1.csv', data: 'id,name\n1,a\n' },
      { name: 'dir/', data: '', stored: true },
      { name: 'part-2.csv', data: 'name,id\nb,2\n', stored: true },
    ]);
    expect(await read(body, { format: csv }, [3, 100])).toEqual(['{"id":"1","name":"a"}', '{"name":"b","id":"2"}']);
  });

  it('reads a JSON document inside gzip too', async () => {
    expect(await read(gzipSync('{"data":[{"a":1}]}'), { records: 'data' })).toEqual(['{"a":1}']);
  });

  it.each([
    ['a corrupt gzip file', Buffer.concat([gzipSync('a\n1\n').subarray(0, 12), Buffer.from('garbage garbage garbage')]), /not valid gzip/],
    ['a truncated zip archive', zipArchive([{ name: 'a.csv', data: 'a\n1\n' }]).subarray(0, 40), /not valid zip/],
  ])('fails if it is %s', async (_, body, message) => {
    const error = await failure(body, { format: csv });
    expect(error).toBeInstanceOf(BodyFormatError);
    expect(error.message).toMatch(message);
  });
});
