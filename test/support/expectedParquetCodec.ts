/**
 * The codec a Node release's curated Parquet files are written in when none is asked for, known
 * from its version alone: zlib gained zstd in Node 22.15 and 23.8 (nodejs.org/api/zlib.html,
 * `zlib.zstdCompressSync`), so Lambda's nodejs22.x writes ZSTD and Node 20 GZIP. Tests compare the
 * writer's own feature detection (`DEFAULT_CODEC`) and the files it writes with this, so a run on
 * Node 22 that fell back to GZIP fails instead of passing on the other path.
 */
export function expectedParquetCodec(version: string = process.version): 'ZSTD' | 'GZIP' {
  const match = /^v?(\d+)\.(\d+)\./.exec(version);
  if (!match) throw new Error(`not a Node version: ${JSON.stringify(version)}; expected e.g. v22.15.0`);
  const [major, minor] = [Number(match[1]), Number(match[2])];
  const hasZstd = major > 23 || (major === 23 && minor >= 8) || (major === 22 && minor >= 15);
  return hasZstd ? 'ZSTD' : 'GZIP';
}
