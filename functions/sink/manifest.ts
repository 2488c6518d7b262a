/** The manifest: the commit marker of a window, written last, listing every part. */

import { SinkError } from '../errors.js';
import { isoSeconds } from '../window/TimeWindow.js';
import type { WindowRef } from './lakeLayout.js';

/** One part as the manifest records it. */
export interface PartInfo {
  readonly key: string;
  readonly records: number;
  /** Compressed size of the object. */
  readonly bytes: number;
  /** Hex SHA-256 of the object's bytes. */
  readonly sha256: string;
}

/** The content of `manifests/…/<start>_<end>.json`. */
export interface Manifest {
  readonly version: 1;
  readonly source: string;
  readonly stream: string;
  readonly window: { readonly start: string; readonly end: string };
  readonly run_id: string;
  readonly started_at: string;
  readonly committed_at: string;
  readonly duration_ms: number;
  readonly parts: readonly PartInfo[];
  readonly totals: { readonly records: number; readonly bytes: number; readonly parts: number };
  readonly pages: number;
  readonly requests: number;
  readonly retries: number;
  readonly throttled: number;
}

/** Builds a manifest from what a window run produced. */
export function buildManifest(input: {
  ref: WindowRef;
  runId: string;
  startedAt: Date;
  committedAt: Date;
  parts: readonly PartInfo[];
  pages: number;
  requests: number;
  retries: number;
  throttled: number;
}): Manifest {
  const { ref, parts } = input;
  return {
    version: 1,
    source: ref.source,
    stream: ref.stream,
    window: { start: isoSeconds(ref.window.start), end: isoSeconds(ref.window.end) },
    run_id: input.runId,
    started_at: input.startedAt.toISOString(),
    committed_at: input.committedAt.toISOString(),
    duration_ms: input.committedAt.getTime() - input.startedAt.getTime(),
    parts,
    totals: {
      records: parts.reduce((n, p) => n + p.records, 0),
      bytes: parts.reduce((n, p) => n + p.bytes, 0),
      parts: parts.length,
    },
    pages: input.pages,
    requests: input.requests,
    retries: input.retries,
    throttled: input.throttled,
  };
}

/** Parses a stored manifest. @throws SinkError when it is not one. */
export function parseManifest(bytes: Buffer, key: string): Manifest {
  let parsed: Partial<Manifest>;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new SinkError(`manifest ${key} is not valid JSON`, { cause: error });
  }
  if (parsed?.version !== 1 || !Array.isArray(parsed.parts) || typeof parsed.totals?.records !== 'number') {
    throw new SinkError(`manifest ${key} is not an apilake v1 manifest`);
  }
  return parsed as Manifest;
}
