/**
 * Puts paging values (a cursor, a page number, an offset) where the API reads them: query
 * parameters, dotted paths into the JSON body (GraphQL's `variables.after`), or headers.
 */

import { PaginationError } from '../../errors.js';
import { headerValueProblem } from '../../config/headerValue.js';
import type { PageRequest } from '../PaginationStrategy.js';

/** Where paging values go (`pagination.in`). */
export type ValuePlace = 'query' | 'body' | 'header';

/**
 * A copy of `request` with `values` set: as query parameters, at dotted paths of the body
 * (objects on the way are copied, never mutated, and created when absent), or as headers.
 * @throws PaginationError when a header value cannot be sent (a line break, a character beyond Latin-1).
 */
export function placeValues(request: PageRequest, place: ValuePlace, values: Readonly<Record<string, string | number>>): PageRequest {
  switch (place) {
    case 'query': {
      const url = new URL(request.url);
      for (const [key, value] of Object.entries(values)) url.searchParams.set(key, String(value));
      return { ...request, url };
    }
    case 'body': {
      let body = request.body;
      for (const [path, value] of Object.entries(values)) body = setPath(body, path.split('.'), value);
      return { ...request, body };
    }
    case 'header': {
      const headers: Record<string, string> = { ...request.headers };
      for (const [name, value] of Object.entries(values)) {
        const problem = headerValueProblem(String(value));
        if (problem !== undefined) throw new PaginationError(`the paging value for header ${name} cannot be sent in a header: ${problem}`, `header ${name}`);
        headers[name] = String(value);
      }
      return { ...request, headers };
    }
  }
}

/** `target` with `value` at `path`; checkSource has made sure every object on the way is one (or absent). */
function setPath(target: unknown, path: readonly string[], value: unknown): unknown {
  const [head, ...rest] = path;
  const object = target !== null && typeof target === 'object' && !Array.isArray(target) ? (target as Record<string, unknown>) : {};
  return { ...object, [head!]: rest.length === 0 ? value : setPath(object[head!], rest, value) };
}
