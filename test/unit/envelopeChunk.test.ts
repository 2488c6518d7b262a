import { describe, expect, it } from 'vitest';
import { envelopeChunk, envelopePrefix } from '../../functions/sink/envelopeChunk.js';
import { parsePage } from '../../functions/body/RecordParser.js';
import { RecordBatch } from '../../functions/body/RecordBatch.js';
import { envelopeLines } from '../../functions/sink/lakeLayout.js';

const ref = { source: 'shop', stream: 'orders', window: { start: new Date('2024-01-01T23:00:00Z'), end: new Date('2024-01-02T00:00:00Z') } };
const fields = { runId: 'run-"1"\u2028', extractedAt: new Date('2024-01-02T00:05:00.123Z') };

describe('envelopeChunk', () => {
  it('writes the same bytes as envelopeLines for records JSON.stringify writes back unchanged', () => {
    const records = [{ id: 1, name: 'a "quoted" ✓\n', nested: { x: [1, null] } }, [], 'text', 0, null, { é: '😀' }];
    const body = Buffer.from(JSON.stringify({ data: records }));
    const chunk = envelopeChunk(envelopePrefix(ref, fields), parsePage(body, { records: 'data' }).records);
    expect(chunk.toString('utf8')).toBe(envelopeLines(ref, fields, records).join(''));
  });

  it('lands each record as the API sent it, one valid JSON line per record', () => {
    const body = Buffer.from('{"data":[ {"b":1.50,"a":-0,"a":1e3} ,"\\u00e9",9007199254740993]}');
    const lines = envelopeChunk(envelopePrefix(ref, fields), parsePage(body, { records: 'data' }).records)
      .toString()
      .split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => line.slice(line.indexOf('"data":') + 7, -1))).toEqual(['{"b":1.50,"a":-0,"a":1e3}', '"\\u00e9"', '9007199254740993']);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ _source: 'shop', _stream: 'orders', _run_id: 'run-"1"\u2028', _extracted_at: '2024-01-02T00:05:00.123Z' });
  });

  it('writes nothing for an empty batch', () => expect(envelopeChunk(envelopePrefix(ref, fields), RecordBatch.EMPTY).length).toBe(0));
});
