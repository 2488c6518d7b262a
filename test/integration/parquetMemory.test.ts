import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('../support/parquetMemoryChild.ts', import.meta.url));

async function land(windowMiB: number, rowGroupMiB: number) {
  // A capped V8 heap makes collection prompt, so peaks measure what is live rather than GC timing.
  const { stdout } = await promisify(execFile)(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', CHILD, String(windowMiB), String(rowGroupMiB)], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  });
  return JSON.parse(stdout) as { baseMiB: number; peakMiB: number; rowGroups: number; records: number };
}

describe('ParquetFileWriter memory', () => {
  it('bounds peak memory by the row group, not the window: 8× the records, far less than 8× the memory', { timeout: 180_000 }, async () => {
    const small = await land(8, 2);
    const large = await land(64, 2);
    expect(large.records).toBeGreaterThan(7 * small.records);
    expect(large.rowGroups).toBeGreaterThan(25);
    const growth = (run: typeof small) => run.peakMiB - run.baseMiB;
    // Measured here: about +40 and +71 MiB. One row group of the whole window peaks near +230 MiB.
    expect(growth(large) - growth(small)).toBeLessThan(56);
    expect(growth(large)).toBeLessThan(120);
  });
});
