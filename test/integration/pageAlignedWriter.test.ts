/**
 * The page-aligned writer of a window landed in slices: parts end at page ends, and a writer asked
 * to stop does so at the next part boundary with nothing of the page that would begin the next part.
 */

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parsePage } from '../../functions/body/RecordParser.js';
import type { RecordBatch } from '../../functions/body/RecordBatch.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { WindowWriter } from '../../functions/sink/WindowWriter.js';

const REF = { source: 'shop', stream: 'orders', window: { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') } };
const META = { extractedAt: new Date('2024-01-01T02:00:00Z') };

/** Page `p` as two batches of three records of about 100 bytes each. */
function page(p: number): RecordBatch[] {
  return [0, 1].map((b) => parsePage(Buffer.from(JSON.stringify({ data: [0, 1, 2].map((i) => ({ page: p, batch: b, i, pad: 'x'.repeat(60) })) })), { records: 'data' }).records);
}

async function writer(pageAligned: boolean) {
  const storage = new FsLakeStorage(await mkdtemp(join(tmpdir(), 'apilake-aligned-')));
  // A page is about 2 KB of envelopes: a part holds one page and a half unless parts wait for a page's end.
  return { storage, writer: new WindowWriter(storage, REF, { runId: '20250101T000000Z-0123456789ab', partSizeBytes: 3_000, pageAligned }) };
}

async function pagesIn(storage: FsLakeStorage, key: string): Promise<string[]> {
  const lines = gunzipSync((await storage.read(key))!)
    .toString()
    .trim()
    .split('\n');
  return lines.map((line) => `${(JSON.parse(line) as { data: { page: number; batch: number } }).data.page}.${(JSON.parse(line) as { data: { batch: number } }).data.batch}`);
}

describe('a page-aligned WindowWriter', () => {
  it.each([
    [
      false,
      [
        ['0.0', '0.1', '1.0'],
        ['1.1', '2.0', '2.1'],
        ['3.0', '3.1'],
      ],
    ],
    [
      true,
      [
        ['0.0', '0.1', '1.0', '1.1'],
        ['2.0', '2.1', '3.0', '3.1'],
      ],
    ],
  ])('with pageAligned %s rolls parts at these batches (page.batch, one per three records)', async (pageAligned, expected) => {
    const { storage, writer: w } = await writer(pageAligned);
    for (let p = 0; p < 4; p++) {
      w.beginPage();
      for (const batch of page(p)) await w.writeRecords(batch, META);
    }
    const files = await w.finish();
    const unique = async (key: string) => [...new Set(await pagesIn(storage, key))];
    expect(await Promise.all(files.parts.map((part) => unique(part.key)))).toEqual(expected);
  });

  it('stops at the next part boundary once asked, writing nothing of the page that would begin the next part', async () => {
    const { storage, writer: w } = await writer(true);
    const written: boolean[] = [];
    for (let p = 0; p < 4; p++) {
      w.beginPage();
      for (const batch of page(p)) written.push(await w.writeRecords(batch, META));
      if (p === 0) w.stopAtNextPart();
    }
    expect(written).toEqual([true, true, true, true, false, false, false, false]);
    expect(w.hasStopped).toBe(true);
    const files = await w.finish();
    expect(files.parts).toHaveLength(1);
    expect(files.parts[0]!.records).toBe(12);
    expect(new Set(await pagesIn(storage, files.parts[0]!.key))).toEqual(new Set(['0.0', '0.1', '1.0', '1.1']));
  });
});
