/** Builds the first request of a stream window from the source definition and the window. */

import type { SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';
import type { PageRequest } from '../pagination/PaginationStrategy.js';
import type { TimeWindow } from '../window/TimeWindow.js';
import { RecordFieldError } from '../errors.js';
import { placeholdersIn, renderString, renderValue, windowValues, type TemplateValues } from '../window/templating.js';

/**
 * The templated first request: base_url + path, params and body with placeholders filled.
 * @param parents the placeholders of a child stream's parents (`{<as>}`), on top of `vars`.
 */
export function buildFirstRequest(source: SourceDefinition, stream: StreamDefinition, window: TimeWindow, parents: TemplateValues = {}): PageRequest {
  const values = windowValues(window, { ...source.vars, ...stream.vars, ...parents });
  for (const name of placeholdersIn(stream.path)) {
    // URL parsing resolves "." and ".." segments (encoded or not): a parent record could steer the request to another endpoint.
    if (name in parents && /^\.{1,2}$/.test(String(parents[name]))) {
      throw new RecordFieldError(`parent key ${JSON.stringify(parents[name])} cannot fill {${name}} in the path: "." and ".." are path steps that would call another endpoint`, `stream "${stream.name}" path ${stream.path}`);
    }
  }
  const encoded = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, encodeURIComponent(String(v))]));
  const base = source.base_url.replace(/\/+$/, '');
  const url = new URL(`${base}${renderString(stream.path, encoded)}`);
  for (const [key, value] of Object.entries(stream.params)) {
    url.searchParams.set(key, typeof value === 'string' ? renderString(value, values) : String(value));
  }
  return stream.body === undefined ? { url } : { url, body: renderValue(stream.body, values) };
}
