/**
 * Where a walk of pages stands after a page, as JSON: what a walk continued in another process
 * (the next invocation of a durable function) starts from, instead of the window's first request.
 * A sequential walk (cursor, next URL, Link header) is continued from the next request itself; a
 * positional one (page numbers, offsets) from the next page's index, its request being derived
 * from the window's first request as before.
 */

import { PaginationError } from '../errors.js';
import type { PageRequest } from './PaginationStrategy.js';

/** A page request as JSON. */
export interface StoredRequest {
  readonly url: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Request fingerprints a token carries to detect a cursor that cycles across a resume: cycles up
 * to this many pages long are still caught there; a longer one is stopped by `max_pages`, as a
 * cycle longer than what a walk remembers is in one process.
 */
export const RESUMED_FINGERPRINTS = 100;

/** How to continue a walk after the page it was taken at. */
export type PagingToken =
  /** The next request is known from the last response: it is page `index`. */
  | {
      readonly kind: 'sequential';
      readonly index: number;
      readonly request: StoredRequest;
      /** Fingerprints of the requests of the pages up to `index` (the last is the next request's), oldest first. */
      readonly seen: readonly string[];
    }
  /** Pages addressed by position: the next is page `index`; `pages` when the API reported a total. */
  | { readonly kind: 'ahead'; readonly index: number; readonly pages?: number; readonly fullPage: number };

/** A request as JSON. */
export function storeRequest(request: PageRequest): StoredRequest {
  return { url: request.url.href, ...(request.body === undefined ? {} : { body: request.body }), ...(request.headers ? { headers: request.headers } : {}) };
}

/** The request a {@link StoredRequest} describes. */
export function loadRequest(stored: StoredRequest): PageRequest {
  return { url: new URL(stored.url), ...(stored.body === undefined ? {} : { body: stored.body }), ...(stored.headers ? { headers: stored.headers } : {}) };
}

/**
 * Checks a token read back from a checkpoint: it was written by this code, so a wrong shape is a
 * version mismatch or a bug, never user input.
 * @throws PaginationError saying what is wrong
 */
export function parsePagingToken(value: unknown): PagingToken {
  const fail = (why: string): never => {
    throw new PaginationError(`cannot continue paging from the stored position: ${why}`, 'the checkpoint');
  };
  if (value === null || typeof value !== 'object') return fail('it is not an object');
  const token = value as Record<string, unknown>;
  if (!isIndex(token.index)) fail(`index ${JSON.stringify(token.index)} is not a page index`);
  if (token.kind === 'sequential') {
    const request = token.request as Record<string, unknown> | undefined;
    if (typeof request?.url !== 'string' || !URL.canParse(request.url)) fail('its request has no valid URL');
    if (request!.headers !== undefined && (typeof request!.headers !== 'object' || request!.headers === null)) fail('its request headers are not an object');
    if (!Array.isArray(token.seen) || !token.seen.every((s) => typeof s === 'string')) fail('its fingerprints are not a list of strings');
    return value as PagingToken;
  }
  if (token.kind === 'ahead') {
    if (token.pages !== undefined && !isIndex(token.pages)) fail(`pages ${JSON.stringify(token.pages)} is not a count`);
    if (!isIndex(token.fullPage)) fail(`fullPage ${JSON.stringify(token.fullPage)} is not a count`);
    return value as PagingToken;
  }
  return fail(`unknown kind ${JSON.stringify(token.kind)}`);
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
