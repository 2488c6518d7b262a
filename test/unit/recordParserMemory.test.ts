import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../functions/expressions/evaluate.js';
import { RecordParser } from '../../functions/body/RecordParser.js';

const CHUNK = 64 * 1024;

/** Pushes a generated page of about `bytes` bytes in 64 KiB chunks; returns what the parser held at most. */
function streamGenerated(bytes: number, parser: RecordParser): { records: number; maxHeld: number } {
  let pending = '{"meta":{"cursor":"abc"},"data":[';
  let records = 0;
  let maxHeld = 0;
  let sent = 0;
  const push = (text: string) => {
    records += parser.push(Buffer.from(text)).count;
    maxHeld = Math.max(maxHeld, parser.heldBytes);
  };
  for (let i = 0; sent < bytes; i++) {
    pending += `${i === 0 ? '' : ','}{"id":${i},"text":"${'x'.repeat(200 + (i % 700))}"}`;
    if (pending.length >= CHUNK) {
      sent += pending.length;
      push(pending);
      pending = '';
    }
  }
  push(`${pending}],"has_more":false}`);
  return { records, maxHeld };
}

describe('RecordParser memory', () => {
  it('holds about one chunk plus the retained records, however large the page', () => {
    const retainBytes = 1024 * 1024;
    for (const megabytes of [4, 32]) {
      const parser = new RecordParser({ records: 'data', retainBytes });
      const { records, maxHeld } = streamGenerated(megabytes * 1024 * 1024, parser);
      const page = parser.end();
      expect(records + page.records.count).toBe(page.recordCount);
      expect(maxHeld).toBeLessThan(retainBytes + 2 * CHUNK);
      expect(evaluate('meta.cursor', page.body)).toBe('abc');
      expect(evaluate('data[-1].id', page.body)).toBe(page.recordCount - 1);
    }
  });

  it('lands a 256 MB page in a process whose RSS grows far less than the page (V8 heap capped at 48 MiB)', async () => {
    const child = fileURLToPath(new URL('../support/streamPageChild.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--max-old-space-size=48', '--import', 'tsx', child, '256'], { maxBuffer: 1024 * 1024 });
    const result = JSON.parse(stdout) as { expected: number; landed: number; recordCount: number; next: string; lastId: number; peakRssMiB: number; startRssMiB: number };
    expect(result.landed).toBe(result.expected);
    expect(result.recordCount).toBe(result.expected);
    expect(result.next).toBe('12345678901234567890');
    expect(result.lastId).toBe(result.expected - 1);
    // Holding the page would take 256 MB; measured growth here is about 65 MiB.
    expect(result.peakRssMiB - result.startRssMiB).toBeLessThan(128);
  }, 180_000);
});
