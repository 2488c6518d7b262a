/** Builds the first request of a stream window from the source definition and the window. */

import type { SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';
import type { PageRequest } from '../pagination/PaginationStrategy.js';
import type { TimeWindow } from '../window/TimeWindow.js';
import { renderString, renderValue, windowValues, type TemplateValues } from '../window/templating.js';

/**
 * The templated first request: base_url + path, params and body with placeholders filled.
 * @param parents the placeholders of a child stream's parents (`{<as>}`), on top of `vars`.
 */
export function buildFirstRequest(source: SourceDefinition, stream: StreamDefinition, window: TimeWindow, parents: TemplateValues = {}): PageRequest {
  const values = windowValues(window, { ...source.vars, ...stream.vars, ...parents });
  const encoded = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, encodeURIComponent(String(v))]));
  const base = source.base_url.replace(/\/+$/, '');
  const url = new URL(`${base}${renderString(stream.path, encoded)}`);
  for (const [key, value] of Object.entries(stream.params)) {
    url.searchParams.set(key, typeof value === 'string' ? renderString(value, values) : String(value));
  }
  return stream.body === undefined ? { url } : { url, body: renderValue(stream.body, values) };
}
