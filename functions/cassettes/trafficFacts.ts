/**
 * What a stream's traffic says about the API beyond its records, for drift reports: the status
 * codes it answered, the shape of its paging cursors, and pages against records.
 */

import type { StreamDefinition } from '../config/sourceSchema.js';
import { evaluate } from '../expressions/evaluate.js';
import { bodyBytes, type Cassette } from './cassette.js';

/** The facts of some cassettes of one stream. */
export interface TrafficFacts {
  /** Every status code answered, ascending. */
  readonly statuses: readonly number[];
  /** The shapes of the cursors that led to a next page (`integer`, `base64`, `url(page,per_page)`…), sorted. */
  readonly cursorShapes: readonly string[];
  readonly pages: number;
  readonly records: number;
  /** Most records one response held: the page size the API applies, when some page was full. */
  readonly largestPage: number;
}

/** Facts of `cassettes`, all of `stream`. */
export function trafficFacts(cassettes: readonly Cassette[], stream: StreamDefinition): TrafficFacts {
  const statuses = new Set<number>();
  const shapes = new Set<string>();
  let largestPage = 0;
  for (const cassette of cassettes) {
    for (const { response } of cassette.interactions) {
      if (!response) continue;
      statuses.add(response.status);
      if (response.status < 200 || response.status >= 300) continue;
      const text = bodyBytes(response).toString('utf8');
      const cursor = nextCursor(stream, response.headers, text);
      if (cursor !== undefined) shapes.add(cursorShape(cursor));
      largestPage = Math.max(largestPage, recordCount(stream, text));
    }
  }
  return {
    statuses: [...statuses].sort((a, b) => a - b),
    cursorShapes: [...shapes].sort(),
    pages: cassettes.reduce((n, c) => n + c.expected.pages, 0),
    records: cassettes.reduce((n, c) => n + c.expected.records, 0),
    largestPage,
  };
}

/** Records in a JSON body at the stream's `records` path; 0 for any other body. */
function recordCount(stream: StreamDefinition, text: string): number {
  try {
    const records = evaluate(stream.records, JSON.parse(text));
    return Array.isArray(records) ? records.length : 0;
  } catch {
    return 0;
  }
}

/** The value that points to the next page, as the stream's pagination reads it; undefined on a last page or another response. */
function nextCursor(stream: StreamDefinition, headers: readonly (readonly [string, string])[], text: string): string | undefined {
  const { pagination } = stream;
  if (pagination.type === 'link_header') {
    const link = headers
      .filter(([name]) => name.toLowerCase() === 'link')
      .map(([, value]) => value)
      .join(', ');
    return /<([^>]+)>\s*;[^,]*rel="?next"?/.exec(link)?.[1];
  }
  const expression = pagination.type === 'cursor' ? pagination.cursor : pagination.type === 'next_url' ? pagination.next : undefined;
  if (expression === undefined) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  let value: unknown;
  try {
    value = evaluate(expression, body);
  } catch {
    return undefined;
  }
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** A cursor's kind, never its value: what a change of the API's paging shows as. */
export function cursorShape(cursor: string): string {
  if (/^-?\d+$/.test(cursor)) return 'integer';
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(cursor)) return 'uuid';
  if (/^\d{4}-\d{2}-\d{2}T/.test(cursor)) return 'timestamp';
  if (/^https?:\/\//.test(cursor) || cursor.startsWith('/')) {
    const url = new URL(cursor, 'http://relative');
    return `url(${[...new Set(url.searchParams.keys())].sort().join(',')})`;
  }
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(cursor) && cursor.length >= 8) return 'base64';
  return 'text';
}
