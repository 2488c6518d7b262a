import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compressorsFor, DEFAULT_CODEC, GZIP_LEVEL, ZSTD_LEVEL } from '../../functions/tables/ParquetFileWriter.js';
import { oneKbRecord } from '../../bench/recordFixtures.js';
import { expectedParquetCodec } from '../support/expectedParquetCodec.js';

/** A page's worth of PLAIN byte arrays: 4-byte lengths and ~1 KB JSON records. */
function page(): Buffer {
  const parts: Buffer[] = [];
  for (let i = 1; i <= 900; i++) {
    const text = Buffer.from(oneKbRecord(i));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(text.length);
    parts.push(length, text);
  }
  return Buffer.concat(parts);
}

type Zstd = (input: Uint8Array, options?: { params: Record<number, number> }) => Buffer;

describe('Parquet page compression', () => {
  it(`compresses the default codec's pages at its chosen level (${expectedParquetCodec()} on ${process.version})`, () => {
    expect(DEFAULT_CODEC).toBe(expectedParquetCodec());
    const input = page();
    const compress = compressorsFor(DEFAULT_CODEC)[DEFAULT_CODEC]!;
    const written = Buffer.from(compress(input));
    if (DEFAULT_CODEC === 'ZSTD') {
      const zstd = (zlib as unknown as { zstdCompressSync: Zstd }).zstdCompressSync;
      const level = (zlib.constants as unknown as { ZSTD_c_compressionLevel: number }).ZSTD_c_compressionLevel;
      expect(written.equals(zstd(input, { params: { [level]: ZSTD_LEVEL } }))).toBe(true);
      // zstd's own default (3) writes other bytes: the level is really passed.
      expect(written.equals(zstd(input))).toBe(false);
      expect((zlib as unknown as { zstdDecompressSync: (b: Buffer) => Buffer }).zstdDecompressSync(written).equals(input)).toBe(true);
    } else {
      expect(written.equals(zlib.gzipSync(input, { level: GZIP_LEVEL }))).toBe(true);
      expect(written.equals(zlib.gzipSync(input))).toBe(false);
      expect(zlib.gunzipSync(written).equals(input)).toBe(true);
    }
  });
});
