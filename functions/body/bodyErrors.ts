/**
 * Typed errors of the record pipeline, each located by byte offset in the body. They extend the
 * HTTP errors of `functions/errors.ts`: a bad body is the API's doing, and the message ends with
 * the redacted request.
 */

import { ApilakeError, HttpError, InvalidJsonError } from '../errors.js';

/** Where a body came from, for messages. */
export interface BodyOrigin {
  /** 1-based page number. */
  readonly page: number;
  /** The redacted request, e.g. `page 3, GET https://api.example.com/v1/orders?cursor=…`. */
  readonly request: string;
  /**
   * Masks credentials in text quoted from the body. Without it, no body text is quoted at all:
   * a server may echo a token back.
   */
  readonly redact?: (text: string) => string;
}

/** The body is not valid UTF-8 and `response_encoding` is `strict`. */
export class ResponseEncodingError extends HttpError {
  /** Offset of the first byte of the first invalid sequence. */
  readonly offset: number;

  constructor(origin: BodyOrigin, offset: number, bytes: string, utf16: boolean) {
    const hint = utf16 ? ' (the body starts with a UTF-16 byte order mark)' : '';
    super(
      `page ${origin.page}: response body is not valid UTF-8 at byte ${offset} (bytes ${bytes})${hint}; ` +
        'response_encoding is strict: set it to latin1 if the API sends ISO-8859-1, or to replace to land U+FFFD for invalid bytes (counted in the manifest)',
      origin.request,
      { context: { offset } },
    );
    this.name = 'ResponseEncodingError';
    this.offset = offset;
  }
}

/** The body is not JSON; says where and what was expected. */
export class JsonSyntaxError extends InvalidJsonError {
  /** Byte offset of the problem (in the decoded body when `response_encoding` is not strict). */
  readonly offset: number;

  constructor(origin: BodyOrigin, offset: number, detail: string, near: string | undefined, options: { cause?: unknown } = {}) {
    super(`page ${origin.page}`, `${detail}${near === undefined ? '' : ` near ${near}`}`, origin.request, options);
    this.name = 'JsonSyntaxError';
    this.offset = offset;
  }
}

/** The body nests deeper than the documented limit (arrays and objects inside each other). */
export class JsonNestingError extends HttpError {
  readonly offset: number;
  readonly limit: number;

  constructor(origin: BodyOrigin, offset: number, limit: number) {
    super(`page ${origin.page}: response body nests arrays/objects deeper than ${limit} levels at byte ${offset}; apilake refuses deeper JSON`, origin.request, {
      context: { offset, limit },
    });
    this.name = 'JsonNestingError';
    this.offset = offset;
    this.limit = limit;
  }
}

/** The body, or its part outside the records array, is larger than allowed. */
export class PageTooLargeError extends HttpError {
  readonly limitBytes: number;
  readonly receivedBytes: number;

  constructor(origin: BodyOrigin, what: 'body' | 'outside', limitBytes: number, receivedBytes: number, note?: string) {
    const message =
      what === 'body'
        ? `page ${origin.page}: response body is larger than max_page_mb (${formatMiB(limitBytes)}): ${receivedBytes} bytes received so far`
        : `page ${origin.page}: the part of the response body outside the records array is larger than ${formatMiB(limitBytes)} (${receivedBytes} bytes${note ? `; ${note}` : ''}); only records are streamed, the rest is held in memory`;
    super(message, origin.request, { context: { limitBytes, receivedBytes } });
    this.name = 'PageTooLargeError';
    this.limitBytes = limitBytes;
    this.receivedBytes = receivedBytes;
  }
}

/** A pagination expression read a record that a streamed page no longer holds. */
export class RecordsNotRetainedError extends ApilakeError {
  constructor(index: number, count: number, retainBytes: number) {
    super(
      `a pagination expression reads record ${index} of a page of ${count} records streamed past ${formatMiB(retainBytes)}; ` +
        'of such pages only the first and last records stay readable (e.g. data[0], data[-1], length(data))',
      { context: { index, count, retainBytes } },
    );
    this.name = 'RecordsNotRetainedError';
  }
}

function formatMiB(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes} bytes`;
}

/** Up to `radius` bytes either side of `offset`, as quoted text, through `redact`; `undefined` without a redactor. */
export function quoteNear(bytes: Uint8Array, offset: number, origin: BodyOrigin, radius = 24): string | undefined {
  if (!origin.redact) return undefined;
  const from = Math.max(0, offset - radius);
  const to = Math.min(bytes.length, offset + radius);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('utf8');
  return JSON.stringify(origin.redact(text));
}

/** A body that is not what its stream's `format` says (a CSV row of the wrong width, XML that does not parse, a corrupt gzip or zip). */
export class BodyFormatError extends HttpError {
  constructor(origin: BodyOrigin, format: string, detail: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(`page ${origin.page}: response body is not valid ${format}: ${detail}`, origin.request, options);
    this.name = 'BodyFormatError';
  }
}

/** One record (a line, a row, an element) is larger than `max_page_mb`. */
export class RecordTooLargeError extends HttpError {
  constructor(origin: BodyOrigin, what: string, limitBytes: number, receivedBytes: number) {
    super(`page ${origin.page}: ${what} is larger than max_page_mb (${formatMiB(limitBytes)}): ${receivedBytes} bytes so far`, origin.request, { context: { limitBytes, receivedBytes } });
    this.name = 'RecordTooLargeError';
  }
}
