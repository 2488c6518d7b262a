import { describe, expect, it } from 'vitest';
import { Redactor } from '../../functions/http/redact.js';
import { selectRecords } from '../../functions/body/selectRecords.js';
import {
  compactStamp,
  envelopeLines,
  manifestKey,
  newRunId,
  parseCompactStamp,
  parseManifestKey,
  parsePartKey,
  parseSymlinkKey,
  partKey,
  partitionDate,
  runStartedAt,
  symlinkKey,
  windowManifestPrefix,
  windowPartPrefix,
} from '../../functions/sink/lakeLayout.js';
import { RecordsPathError } from '../../functions/errors.js';
import { evaluate } from '../../functions/expressions/evaluate.js';
import { hasLongDigitRun, parseJson, stringifyJson } from '../../functions/body/preciseJson.js';

const ref = { source: 'shop', stream: 'orders', window: { start: new Date('2024-01-01T23:00:00Z'), end: new Date('2024-01-02T00:00:00Z') } };

describe('lake layout', () => {
  const run = '20240102T000512Z-0123456789ab';

  it('names parts after their run, commits after their number, and one symlink per window', () => {
    expect(partKey(ref, run, 0)).toBe(`raw/source=shop/stream=orders/dt=2024-01-01/20240101T230000Z_20240102T000000Z_${run}_part-00000.jsonl.gz`);
    expect(partKey(ref, run, 12)).toMatch(/_part-00012\.jsonl\.gz$/);
    expect(manifestKey(ref, 1)).toBe('manifests/source=shop/stream=orders/dt=2024-01-01/20240101T230000Z_20240102T000000Z.000001.json');
    expect(manifestKey(ref, 0)).toBe('manifests/source=shop/stream=orders/dt=2024-01-01/20240101T230000Z_20240102T000000Z.json');
    expect(symlinkKey(ref)).toBe('symlinks/raw/source=shop/stream=orders/dt=2024-01-01/20240101T230000Z_20240102T000000Z.txt');
    expect(partKey(ref, run, 0).startsWith(windowPartPrefix(ref))).toBe(true);
    expect(manifestKey(ref, 7).startsWith(windowManifestPrefix(ref))).toBe(true);
    expect(manifestKey(ref, 0).startsWith(windowManifestPrefix(ref))).toBe(true);
  });

  it('never lets the prefix of one window cover another window', () => {
    const twoHours = { ...ref, window: { start: ref.window.start, end: new Date('2024-01-02T01:00:00Z') } };
    expect(partKey(twoHours, run, 0).startsWith(windowPartPrefix(ref))).toBe(false);
    expect(manifestKey(twoHours, 1).startsWith(windowManifestPrefix(ref))).toBe(false);
  });

  it('partitions by the window start date in UTC', () => expect(partitionDate(ref.window)).toBe('2024-01-01'));

  it('round-trips stamps, run ids and keys', () => {
    expect(compactStamp(new Date('2024-02-29T12:34:56.789Z'))).toBe('20240229T123456Z');
    expect(parseCompactStamp('20240229T123456Z')).toEqual(new Date('2024-02-29T12:34:56Z'));
    expect(parseCompactStamp('20240230T123456Z')).toBeUndefined();
    const id = newRunId(new Date('2024-01-02T00:05:12.345Z'), () => Buffer.from('0123456789ab', 'hex'));
    expect(id).toBe('20240102T000512Z-0123456789ab');
    expect(runStartedAt(id)).toEqual(new Date('2024-01-02T00:05:12Z'));
    expect(runStartedAt('550e8400-e29b-41d4-a716-446655440000')).toBeUndefined();
    expect(newRunId(new Date())).not.toBe(newRunId(new Date()));
    expect(parseManifestKey(manifestKey(ref, 3))).toEqual({ ref, commit: 3 });
    expect(parseManifestKey(manifestKey(ref, 0))).toEqual({ ref, commit: 0 });
    expect(parseManifestKey(partKey(ref, run, 0))).toBeUndefined();
    expect(parsePartKey(partKey(ref, run, 4))).toEqual({ ref, kind: 'raw', runId: run, index: 4 });
    expect(partKey(ref, run, 0, 'curated')).toBe(`curated/source=shop/stream=orders/dt=2024-01-01/20240101T230000Z_20240102T000000Z_${run}_part-00000.parquet`);
    expect(parsePartKey(partKey(ref, run, 1, 'curated'))).toEqual({ ref, kind: 'curated', runId: run, index: 1 });
    expect(parsePartKey(partKey(ref, run, 1, 'curated').replace('.parquet', '.jsonl.gz'))).toBeUndefined();
    expect(parseSymlinkKey(symlinkKey(ref, 'curated'))).toEqual(ref);
    expect(parsePartKey('raw/source=shop/stream=orders/dt=2024-01-01/20240101T230000Z_20240102T000000Z_part-00002.jsonl.gz')).toEqual({ ref, kind: 'raw', index: 2 });
    expect(parsePartKey(manifestKey(ref, 1))).toBeUndefined();
    expect(parseSymlinkKey(symlinkKey(ref))).toEqual(ref);
  });

  it('wraps each record in the envelope, keeping the record exactly as sent', () => {
    const record = { id: 1, name: 'a "quoted" ✓\n', nested: { x: [1, null] } };
    const [line] = envelopeLines(ref, { runId: 'run-1', extractedAt: new Date('2024-01-02T00:05:00Z') }, [record]);
    expect(line!.endsWith('}\n')).toBe(true);
    expect(JSON.parse(line!)).toEqual({
      _source: 'shop',
      _stream: 'orders',
      _window_start: '2024-01-01T23:00:00Z',
      _window_end: '2024-01-02T00:00:00Z',
      _extracted_at: '2024-01-02T00:05:00.000Z',
      _run_id: 'run-1',
      data: record,
    });
  });
});

describe('selectRecords', () => {
  it.each([
    [{ data: [1, 2] }, 'data', [1, 2]],
    [[{ a: 1 }], '@', [{ a: 1 }]],
    [{ data: { items: [] } }, 'data.items', []],
  ])('selects %j with %s', (body, expr, records) => expect(selectRecords(body, expr, 1, 'GET /x')).toEqual(records));

  it('fails if the records path is missing (an error body served with 200), naming the page and keys', () => {
    expect(() => selectRecords({ error: 'quota' }, 'data', 3, 'GET http://api/x')).toThrow(RecordsPathError);
    expect(() => selectRecords({ error: 'quota' }, 'data', 3, 'GET http://api/x')).toThrow(/page 3: records path "data" is missing from the response; top-level keys: error/);
  });

  it('fails if the records path is not an array', () => {
    expect(() => selectRecords({ data: { id: 1 } }, 'data', 1, 'GET /x')).toThrow(/points at an object, expected an array/);
  });
});

describe('precise JSON', () => {
  it.each(['{"id":9007199254740993}', '{"amount":12345678901234567.25,"small":1.5,"list":[18446744073709551615,-1]}', '[{"id":1234567890123456789012345}]'])('keeps every digit of %s', (text) => {
    const parsed = parseJson(text);
    expect(parsed.precise).toBe(true);
    expect(stringifyJson(parsed.value, parsed.precise)).toBe(text);
  });

  it.each([
    ['9007199254740993', true],
    ['123456789012345', false],
    ['x'.repeat(17) + '1234567890123456', true], // the run straddles two probes
    ['1234567890123456' + 'y', true],
    ['12345678 12345678 12345678', false],
    ['2024-01-01T00:00:00.000Z,1700000000000,3.14159265358979', false],
    ['"id_str":"1234567890123456789"', true], // long digit strings take the precise path too: harmless
    ['', false],
  ])('detects a run of 16+ digits in %j: %s', (text, expected) => {
    expect(hasLongDigitRun(text)).toBe(expected);
    expect(hasLongDigitRun(text)).toBe(/\d{16}/.test(text)); // same answer as the regex, for a quarter of the cost
  });

  it('uses native JSON when no number can lose precision', () => {
    const parsed = parseJson('{"id":123456789012345,"x":[1.25]}');
    expect(parsed).toEqual({ value: { id: 123456789012345, x: [1.25] }, precise: false });
  });

  it('hands JMESPath results out as exact text', () => {
    expect(evaluate('data[-1].id', parseJson('{"data":[{"id":9007199254740993}]}').value)).toBe('9007199254740993');
  });
});

describe('Redactor', () => {
  it('masks sensitive query parameters and user info in URLs', () => {
    const redactor = new Redactor();
    redactor.addSensitiveParam('X-Custom-Key');
    expect(redactor.url('https://user:pw@api.test/x?api_key=abc&page=2&x-custom-key=zzz')).toBe('https://***@api.test/x?api_key=***&page=2&x-custom-key=***');
  });

  it('masks registered secret values anywhere in text, encoded or not', () => {
    const redactor = new Redactor();
    redactor.addSecret('s3cr3t/+value');
    expect(redactor.text('error: key s3cr3t/+value rejected')).toBe('error: key *** rejected');
    expect(redactor.url('https://api.test/x?k=s3cr3t%2F%2Bvalue')).toBe('https://api.test/x?k=***');
  });
});
