/**
 * The cassette of one window: the HTTP traffic of its run (requests and responses in the order
 * they were sent, secrets replaced by placeholders) and the result it must replay to. Stored as
 * gzip JSON, one file per window: `<cassettes>/<source>/<stream>/<start>_<end>.json.gz`.
 */

import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { CassetteFormatError } from '../errors.js';
import { compactStamp, parseCompactStamp } from '../sink/lakeLayout.js';
import type { TimeWindow } from '../window/TimeWindow.js';

/** The format this apilake reads and writes. */
export const CASSETTE_FORMAT = 'apilake-cassette/1';

/** Suffix of a cassette file. */
export const CASSETTE_SUFFIX = '.json.gz';

const failure = z.strictObject({ code: z.string().optional(), message: z.string() });

const interaction = z.strictObject({
  request: z.strictObject({
    method: z.string(),
    url: z.string(),
    /** As the client sent them: lower-case names, in the order set. */
    headers: z.record(z.string(), z.string()),
    body: z.string().optional(),
  }),
  /** Absent when no response came (the network failed: `error`). */
  response: z
    .strictObject({
      status: z.int(),
      /** Every field as received, repeated fields once per line. */
      headers: z.array(z.tuple([z.string(), z.string()])),
      /** The body as the client read it (decoded per content-encoding): UTF-8 text, or base64 when `base64`. */
      body: z.string(),
      base64: z.literal(true).optional(),
      /** The body broke off with this error after the bytes above. */
      error: failure.optional(),
    })
    .optional(),
  error: failure.optional(),
});

const expectation = z.strictObject({
  records: z.int().nonnegative(),
  /** SHA-256 of the landed record lines without their run-specific fields (see landedResult.ts). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  pages: z.int().nonnegative(),
  /** Per typed column, values that did not convert; only columns with some. */
  type_errors: z.record(z.string(), z.int().nonnegative()),
});

const cassetteSchema = z.strictObject({
  format: z.literal(CASSETTE_FORMAT),
  source: z.string(),
  stream: z.string(),
  window: z.strictObject({ start: z.iso.datetime(), end: z.iso.datetime() }),
  recorded_at: z.iso.datetime(),
  /** The source's secret as replay reads it: each credential a placeholder, values apilake never masks (short identifiers, numbers) as they were. */
  secrets: z.record(z.string(), z.record(z.string(), z.unknown())),
  interactions: z.array(interaction),
  expected: expectation,
});

/** One cassette, as stored. */
export type Cassette = z.output<typeof cassetteSchema>;
/** One request and what came back. */
export type CassetteInteraction = Cassette['interactions'][number];
/** A recorded request. */
export type CassetteRequest = CassetteInteraction['request'];
/** A recorded response. */
export type CassetteResponse = NonNullable<CassetteInteraction['response']>;
/** A network failure, or a body that broke off. */
export type CassetteFailure = NonNullable<CassetteInteraction['error']>;
/** What a window must land when its cassette replays. */
export type WindowExpectation = Cassette['expected'];

/** The window of a cassette, as dates. */
export function cassetteWindow(cassette: Cassette): TimeWindow {
  return { start: new Date(cassette.window.start), end: new Date(cassette.window.end) };
}

/** `<dir>/<source>/<stream>/<start>_<end>.json.gz`. */
export function cassettePath(dir: string, source: string, stream: string, window: TimeWindow): string {
  return join(dir, source, stream, `${compactStamp(window.start)}_${compactStamp(window.end)}${CASSETTE_SUFFIX}`);
}

/** Whether a file name is a cassette's (`<start>_<end>.json.gz`). */
export function isCassetteName(name: string): boolean {
  const m = /^(\w+)_(\w+)\.json\.gz$/.exec(name);
  return m !== null && parseCompactStamp(m[1]!) !== undefined && parseCompactStamp(m[2]!) !== undefined;
}

/** The stored bytes of a cassette: gzip of its JSON, one interaction a line for readable diffs of the text. */
export function serializeCassette(cassette: Cassette): Buffer {
  const { interactions, ...head } = cassette;
  const lines = interactions.map((i) => `    ${JSON.stringify(i)}`).join(',\n');
  const text = JSON.stringify({ ...head, interactions: [] }, null, 2).replace('"interactions": []', `"interactions": [\n${lines}\n  ]`);
  return gzipSync(`${text}\n`, { level: 9 });
}

/**
 * Reads a cassette's bytes.
 * @throws CassetteFormatError naming the file: not gzip, not JSON, or not a cassette of this format
 */
export function parseCassette(bytes: Buffer, file: string): Cassette {
  let text: string;
  try {
    text = gunzipSync(bytes).toString('utf8');
  } catch (error) {
    throw new CassetteFormatError(`${file}: not a cassette (not gzip: ${(error as Error).message})`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CassetteFormatError(`${file}: not a cassette (not JSON: ${(error as Error).message})`, { cause: error });
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (format !== CASSETTE_FORMAT) {
    throw new CassetteFormatError(`${file}: format ${JSON.stringify(format)} is not ${CASSETTE_FORMAT}, the one this apilake reads; record it again`);
  }
  const parsed = cassetteSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CassetteFormatError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** A response body's bytes as stored. */
export function bodyBytes(response: CassetteResponse): Buffer {
  return response.base64 ? Buffer.from(response.body, 'base64') : Buffer.from(response.body, 'utf8');
}

/** Stores bytes as UTF-8 text when they are, base64 otherwise, so they come back exactly. */
export function storedBody(bytes: Buffer): { body: string; base64?: true } {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? { body: text } : { body: bytes.toString('base64'), base64: true };
}
