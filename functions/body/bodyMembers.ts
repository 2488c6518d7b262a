/**
 * The documents inside a body, told by its first bytes: a gzip file (one or many members, read as
 * one stream, as gunzip does), a zip archive (each file in it, in the order of its central
 * directory), or the body itself. A zip's central directory is at its end, so an archive is first
 * spooled to a temporary file (memory stays bounded by one chunk; the disk holds the archive,
 * `/tmp` in Lambda) and then read with yauzl, which trusts the central directory rather than the
 * local headers a streaming reader would have to guess sizes from. The file goes when reading ends.
 */

import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import yauzl from 'yauzl';
import { BodyFormatError, type BodyOrigin } from './bodyErrors.js';

/** One document of a body. */
export interface BodyMember {
  /** Its name in a zip archive. */
  readonly name?: string;
  /** Its bytes as they arrive, decompressed. Read each member to its end before asking for the next. */
  readonly chunks: AsyncIterable<Uint8Array>;
  /** The member is the body itself, neither gzip nor zip: its offsets are the body's. @default false */
  readonly plain?: boolean;
}

const GZIP = [0x1f, 0x8b] as const;
const ZIP_LOCAL = [0x50, 0x4b, 0x03, 0x04] as const;
const ZIP_EMPTY = [0x50, 0x4b, 0x05, 0x06] as const;

const startsWith = (bytes: Uint8Array, magic: readonly number[]) => magic.every((b, i) => bytes[i] === b);

/** The documents of `body`: one for a plain or gzip body, one per file of a zip archive. */
export async function* bodyMembers(body: AsyncIterable<Uint8Array>, origin: BodyOrigin): AsyncGenerator<BodyMember> {
  const iterator = body[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < 4) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(next.value);
    headBytes += next.value.length;
  }
  const first = head.length === 1 ? head[0]! : Buffer.concat(head);
  async function* whole(): AsyncGenerator<Uint8Array> {
    if (first.length > 0) yield first;
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  if (startsWith(first, GZIP)) yield { chunks: gunzipped(whole(), origin) };
  else if (startsWith(first, ZIP_LOCAL) || startsWith(first, ZIP_EMPTY)) yield* zipMembers(whole(), origin);
  else yield { chunks: whole(), plain: true };
}

/** Every gzip member of `source`, decompressed in order, on libuv's thread pool. */
async function* gunzipped(source: AsyncIterable<Uint8Array>, origin: BodyOrigin): AsyncGenerator<Uint8Array> {
  const gunzip = createGunzip();
  pipeline(Readable.from(source, { objectMode: false }), gunzip, () => undefined);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (error) {
    throw formatError(error, origin, 'gzip');
  }
}

async function* zipMembers(source: AsyncIterable<Uint8Array>, origin: BodyOrigin): AsyncGenerator<BodyMember> {
  const dir = await mkdtemp(join(tmpdir(), 'apilake-zip-'));
  try {
    const path = join(dir, 'body.zip');
    const file = await open(path, 'w');
    try {
      for await (const chunk of source) await file.write(chunk);
    } finally {
      await file.close();
    }
    let zip: yauzl.ZipFile;
    try {
      zip = await new Promise<yauzl.ZipFile>((resolve, reject) => yauzl.open(path, { lazyEntries: true, autoClose: false }, (error, opened) => (error ? reject(error) : resolve(opened))));
    } catch (error) {
      throw formatError(error, origin, 'zip');
    }
    try {
      for (;;) {
        const entry = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
          const onEntry = (e: yauzl.Entry) => done(() => resolve(e));
          const onEnd = () => done(() => resolve(undefined));
          const onError = (error: Error) => done(() => reject(formatError(error, origin, 'zip')));
          const done = (settle: () => void) => {
            zip.off('entry', onEntry).off('end', onEnd).off('error', onError);
            settle();
          };
          zip.on('entry', onEntry).on('end', onEnd).on('error', onError);
          zip.readEntry();
        });
        if (!entry) return;
        if (entry.fileName.endsWith('/')) continue;
        const stream = await new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (error, opened) => (error ? reject(formatError(error, origin, 'zip')) : resolve(opened))));
        yield { name: entry.fileName, chunks: zipEntryChunks(stream, entry.fileName, origin) };
        stream.destroy();
      }
    } finally {
      zip.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function* zipEntryChunks(stream: Readable, name: string, origin: BodyOrigin): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    throw formatError(error, origin, `zip (member ${JSON.stringify(name)})`);
  }
}

/**
 * A decompression error as a body error. Of gzip, only zlib's own errors (`Z_…` codes) are: a
 * connection that broke comes through the same stream and stays what it is, so it is retried.
 * Every error while the spooled archive is read is the archive's.
 */
function formatError(error: unknown, origin: BodyOrigin, what: string): Error {
  if (error instanceof BodyFormatError) return error;
  const code = (error as { code?: unknown }).code;
  if (what === 'gzip' && !(typeof code === 'string' && code.startsWith('Z_'))) return error as Error;
  return new BodyFormatError(origin, what, (error as Error).message, { cause: error });
}
