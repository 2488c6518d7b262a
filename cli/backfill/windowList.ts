/**
 * The window list of a backfill in AWS: one backfill event (the function's event contract,
 * docs/deploy.md) per window, and which of them the lake already holds a commit of.
 */

import { currentCommits, type CurrentCommit, isoSeconds, type LakeStorage, type TimeWindow, windowId } from '../../functions/index.js';

/** The backfill event of one stream window, as the function receives it. */
export interface BackfillEvent {
  readonly source: string;
  readonly stream: string;
  readonly window: { readonly start: string; readonly end: string };
  /** Always present: the backfill state machine passes each field of the item on by name. */
  readonly force: boolean;
}

/** The backfill event of one stream window. */
export function backfillEvent(source: string, stream: string, window: TimeWindow, force: boolean): BackfillEvent {
  return { source, stream, window: { start: isoSeconds(window.start), end: isoSeconds(window.end) }, force };
}

/** The window an event names. */
export function eventWindow(event: BackfillEvent): TimeWindow {
  return { start: new Date(event.window.start), end: new Date(event.window.end) };
}

/** The lake's key of an event's window (`windowId`). */
export function eventWindowId(event: BackfillEvent): string {
  return windowId({ source: event.source, stream: event.stream, window: eventWindow(event) });
}

/**
 * The current commit of the events' windows that have one, by `windowId` (and of the other windows
 * of every day from a stream's first event to its last), from one listing of each stream's
 * manifests, bounded by those days: a backfill followed for a year lists fewer days at each look as
 * its windows commit.
 */
export async function committedWindows(storage: LakeStorage, events: Iterable<BackfillEvent>): Promise<Map<string, CurrentCommit>> {
  const starts = new Map<string, { source: string; stream: string; first: number; last: number }>();
  for (const event of events) {
    const at = eventWindow(event).start.getTime();
    const key = `${event.source}/${event.stream}`;
    const seen = starts.get(key);
    if (!seen) starts.set(key, { source: event.source, stream: event.stream, first: at, last: at });
    else {
      seen.first = Math.min(seen.first, at);
      seen.last = Math.max(seen.last, at);
    }
  }
  const current = new Map<string, CurrentCommit>();
  for (const { source, stream, first, last } of starts.values()) {
    for (const [id, commit] of await currentCommits(storage, source, stream, { starts: { first: new Date(first), last: new Date(last) } })) current.set(id, commit);
  }
  return current;
}

/**
 * Reads a window list written by {@link startRemoteBackfill}.
 * @returns undefined when the text is not a list of backfill events.
 */
export function parseWindowList(text: string): BackfillEvent[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return Array.isArray(parsed) && parsed.every(isEvent) ? parsed : undefined;
}

function isEvent(value: unknown): value is BackfillEvent {
  if (value === null || typeof value !== 'object') return false;
  const event = value as Record<string, unknown>;
  const window = event.window as Record<string, unknown> | null | undefined;
  return typeof event.source === 'string' && typeof event.stream === 'string' && typeof window?.start === 'string' && typeof window.end === 'string';
}
