/** Which streams of a source land in the lake: all but those that only serve as parents (`land: false`). */

import type { SourceDefinition, StreamDefinition } from './sourceSchema.js';

/** The streams that have windows, manifests and tables, in file order. */
export function landedStreams(source: SourceDefinition): StreamDefinition[] {
  return source.streams.filter((stream) => stream.land);
}
