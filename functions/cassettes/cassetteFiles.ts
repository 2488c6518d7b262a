/** Cassette files on disk: found per source and stream, read and checked, written whole or not at all. */

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CassetteFormatError } from '../errors.js';
import { isCassetteName, parseCassette, type Cassette } from './cassette.js';

/** The cassette files of a source (of one stream when given), by stream then window. */
export async function listCassettes(dir: string, source: string, stream?: string): Promise<string[]> {
  const root = join(dir, source);
  let streams: string[];
  try {
    streams = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const name of streams.sort()) {
    if (stream !== undefined && name !== stream) continue;
    const entries = await readdir(join(root, name));
    files.push(
      ...entries
        .filter(isCassetteName)
        .sort()
        .map((file) => join(root, name, file)),
    );
  }
  return files;
}

/**
 * Reads and checks one cassette file.
 * @throws CassetteFormatError when it is unreadable, of another format, or of another source
 */
export async function readCassetteFile(file: string, source: string): Promise<Cassette> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new CassetteFormatError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  const cassette = parseCassette(bytes, file);
  if (cassette.source !== source) throw new CassetteFormatError(`${file}: a cassette of source "${cassette.source}", not "${source}"`);
  return cassette;
}

/** Writes a file through a temporary name and a rename, so a reader never sees half a cassette. */
export async function writeCassetteFile(file: string, bytes: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
