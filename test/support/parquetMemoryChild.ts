/**
 * Child process of the Parquet memory test: streams a synthetic window of ~1 KB records of the
 * given size through ColumnExtractor and ParquetFileWriter into a discarding sink, then prints
 * `{ baseMiB, peakMiB, rowGroups }` (peak = the process's maximum resident set size).
 * Usage: node --import tsx parquetMemoryChild.ts <windowMiB> <rowGroupMiB>
 */

import { Writable } from 'node:stream';
import { ColumnExtractor } from '../../functions/tables/ColumnExtractor.js';
import { parseColumnType } from '../../functions/config/columnType.js';
import { ParquetFileWriter } from '../../functions/tables/ParquetFileWriter.js';
import type { TableSpec, TypedColumn } from '../../functions/tables/tableSpec.js';

const [windowMiB, groupMiB] = process.argv.slice(2).map(Number) as [number, number];
const column = (name: string, path: string, text: string): TypedColumn => {
  const parsed = parseColumnType(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return { name, path, type: parsed.type, comment: '' };
};
const spec: TableSpec = {
  source: 'mem',
  stream: 'records',
  name: 'mem_records',
  primaryKey: [],
  columns: [column('id', 'id', 'bigint'), column('title', 'title', 'string'), column('at', 'at', 'timestamp'), column('score', 'score', 'double'), column('tags', 'tags[].name', 'array<string>')],
};
const words = 'lambda parquet athena bucket window stream record cursor page retry token schema column partition manifest'.split(' ');
let seed = 1;
const random = () => (seed = (seed * 1_664_525 + 1_013_904_223) >>> 0) / 2 ** 32;
const text = (n: number) => Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(' ');
const record = (i: number) => JSON.stringify({ id: i, title: text(6), at: 1_700_000_000 + i, score: random(), tags: [{ name: text(1) }], body: text(110) });

const baseMiB = process.resourceUsage().maxRSS / 1024;
const extractor = new ColumnExtractor(spec.columns);
const file = new ParquetFileWriter(spec, { windowStart: '2024-01-01T00:00:00Z', windowEnd: '2024-01-01T01:00:00Z', runId: 'mem' }, { rowGroupBytes: groupMiB * 2 ** 20 });
file.output.pipe(new Writable({ write: (_chunk, _encoding, done) => done() }));
let bytes = 0;
let n = 0;
while (bytes < windowMiB * 2 ** 20) {
  const data = Array.from({ length: 100 }, () => record(n++));
  bytes += data.reduce((sum, t) => sum + t.length, 0);
  await file.writePage({ extractedAt: '2024-01-01T00:05:00.000Z', data, values: data.map((t) => extractor.extract(JSON.parse(t))) });
}
const info = await file.close();
process.stdout.write(`${JSON.stringify({ baseMiB, peakMiB: process.resourceUsage().maxRSS / 1024, rowGroups: info.rowGroups, records: info.rows })}\n`);
