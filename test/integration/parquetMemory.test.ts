import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('../support/parquetMemoryChild.ts', import.meta.url));

async function land(windowMiB: number, rowGroupMiB: number) {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, String(windowMiB), String(rowGroupMiB)], { cwd: fileURLToPath(new URL('../..', import.meta.url)) });
  return JSON.parse(stdout) as { baseMiB: number; peakMiB: number; rowGroups: number; records: number };
}

describe('ParquetFileWriter memory', () => {
  it('keeps peak memory flat in the size of the window: 8× the records, about the same peak', { timeout: 180_000 }, async () => {
    const small = await land(8, 2);
    const large = await land(64, 2);
    expect(large.records).toBeGreaterThan(7 * small.records);
    expect(large.rowGroups).toBeGreaterThan(25);
    // Holding the window (64 MiB of text, and its bytes) would add well over 56 MiB.
    expect(large.peakMiB - large.baseMiB - (small.peakMiB - small.baseMiB)).toBeLessThan(40);
    expect(large.peakMiB - large.baseMiB).toBeLessThan(160);
  });
});
