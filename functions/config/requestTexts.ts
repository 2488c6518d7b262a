/**
 * The texts of a stream's request that placeholders are rendered in, for checks that ask which
 * placeholders the request holds (a window's bounds to split on, a window a parent depends on).
 */

import type { StreamDefinition } from './sourceSchema.js';

/** The templated texts of a stream's request: its path, its string params and every string in its body. */
export function requestTexts(stream: Partial<Pick<StreamDefinition, 'path' | 'params' | 'body'>>): string[] {
  const params = Object.values(stream.params ?? {}).filter((value): value is string => typeof value === 'string');
  return [...(stream.path === undefined ? [] : [stream.path]), ...params, ...stringsIn(stream.body)];
}

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}
