import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { GZIP_INPUT_BYTES, PartWriter } from '../../functions/sink/PartWriter.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'apilake-part-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** `count` lines of varied length; line `i` names itself, so a line overwritten or moved shows. */
const lines = (from: number, count: number) => Array.from({ length: count }, (_, i) => `{"line":${from + i},"pad":"${'abcdefghij'.repeat((from + i) % 97)}"}\n`).join('');

describe('PartWriter', () => {
  it('lands every line once and in order while its gzip input buffers are filled again, a batch larger than one too', async () => {
    const storage = new FsLakeStorage(root);
    const part = new PartWriter('raw/part-0.jsonl.gz', storage);
    const expected: string[] = [];
    let line = 0;
    for (let k = 0; k < 400; k++) {
      const count = k === 200 ? 4_000 : 1 + (k % 60);
      const text = lines(line, count);
      if (k % 2 === 0) await part.write(Buffer.from(text), count);
      else await part.writeLines(Buffer.byteLength(text), count, (out, at) => at + out.write(text, at));
      expected.push(text);
      line += count;
    }
    expect(Buffer.byteLength(expected[200]!)).toBeGreaterThan(GZIP_INPUT_BYTES);
    const info = await part.close();

    const stored = (await storage.read('raw/part-0.jsonl.gz'))!;
    expect(gunzipSync(stored).toString()).toBe(expected.join(''));
    expect(info).toEqual({ key: 'raw/part-0.jsonl.gz', records: line, bytes: stored.length, sha256: createHash('sha256').update(stored).digest('hex') });
    expect(part.uncompressedBytes).toBe(Buffer.byteLength(expected.join('')));
  });
});
