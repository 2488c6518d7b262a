/**
 * Child-process entry: the CPU ceiling of T4 (docs/performance.md), measured now, on this machine: one core doing
 * JSON.parse of the pages and JSON.stringify of each record's envelope, nothing else (no HTTP,
 * no gzip, no hashing, no files). Prints `{recordsPerSecond, cpuMicrosPerRecord}`.
 */

import { oneKbRecord } from './recordFixtures.js';

const { recordsPerPage, minMs } = JSON.parse(process.argv[2]!) as { recordsPerPage: number; minMs: number };
const PAGES = 50;
const pages: string[] = [];
for (let p = 0; p < PAGES; p++) {
  const records: string[] = [];
  for (let i = 0; i < recordsPerPage; i++) records.push(oneKbRecord(p * recordsPerPage + i + 1));
  pages.push(`{"data":[${records.join(',')}],"meta":{"page":${p + 1},"total_pages":${PAGES}}}`);
}
const envelope = {
  _source: 'bench',
  _stream: 'items',
  _window_start: '2024-01-01T00:00:00Z',
  _window_end: '2024-01-01T01:00:00Z',
  _extracted_at: '',
  _run_id: '20240101T010000Z-0123456789ab',
  data: null as unknown,
};
let sink = 0;
const pass = () => {
  for (const text of pages) {
    const extractedAt = new Date().toISOString();
    for (const data of (JSON.parse(text) as { data: unknown[] }).data) sink += JSON.stringify({ ...envelope, _extracted_at: extractedAt, data }).length;
  }
};
pass(); // warm up the JIT, as a landing warms up on its first pages
let records = 0;
const cpuBefore = process.cpuUsage();
const started = performance.now();
while (performance.now() - started < minMs) {
  pass();
  records += PAGES * recordsPerPage;
}
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
console.log(JSON.stringify({ recordsPerSecond: (records / ms) * 1000, cpuMicrosPerRecord: (cpu.user + cpu.system) / records, sink }));
