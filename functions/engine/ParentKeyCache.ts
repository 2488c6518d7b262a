/**
 * Parent keys paged once per run. A parent stream whose request does not depend on the window
 * returns the same records for every child window of a run, so paging it again for each one
 * (24 times for a day of hourly windows) only costs requests: its keys are kept for the run.
 *
 * A run is one `runSource` call (a CLI `run` or `backfill`, all its windows, however many run at
 * once) or one Lambda invocation. Keys are held in memory for the run's length (a few hundred
 * bytes a key); the parent is paged again by the next run, so a key the API adds later reaches
 * the children from the next run on.
 */

import { AbortedError } from '../errors.js';
import { requestTexts } from '../config/requestTexts.js';
import type { SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';

/** `{window.start}`, `{window.end:epoch_ms}`, `{window.end-1s}`…: any placeholder of the window. */
const WINDOW_PLACEHOLDER = /\{\s*window\b/;

/**
 * Whether a parent stream's records are the same for every window of a run: no `{window.*}`
 * placeholder in its path, params or body, no `incremental` (which keeps the window's records
 * only), and the same holds for its own parent, if it has one.
 */
export function pagedOncePerRun(source: SourceDefinition, stream: StreamDefinition): boolean {
  const seen = new Set<string>();
  for (let current: StreamDefinition | undefined = stream; current;) {
    const parent: string | undefined = current.parent?.stream;
    // checkSource refuses cycles; this only keeps a broken definition from looping.
    if (seen.has(current.name)) return false;
    seen.add(current.name);
    // A job stream's requests are its job's, made for each window.
    if (current.incremental || current.max_results || current.job || current.path === undefined) return false;
    if (requestTexts(current).some((text) => WINDOW_PLACEHOLDER.test(text))) return false;
    current = parent === undefined ? undefined : source.streams.find((s) => s.name === parent);
  }
  return true;
}

/**
 * The parent keys of one run, by parent: the first window that needs them pages the parent, and
 * every other window of the run, concurrent ones included, waits for that paging and reuses its
 * keys. A paging that failed is forgotten, so the next window that needs it pages it again.
 */
export class ParentKeyCache {
  private readonly entries = new Map<string, Promise<unknown>>();

  /** @param signal the run's: stops a paging that windows share (a window's own stop only stops its wait). */
  constructor(readonly signal?: AbortSignal) {}

  /**
   * The keys cached under `id`, or those `load` pages (once, whoever asks meanwhile).
   * @param signal the asking window's: ends its wait, not the paging.
   * @throws what `load` threw, or AbortedError when `signal` aborts first
   */
  async keys<T>(id: string, load: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    let entry = this.entries.get(id) as Promise<T> | undefined;
    if (!entry) {
      const loading = load();
      entry = loading;
      this.entries.set(id, loading);
      loading.catch(() => {
        if (this.entries.get(id) === loading) this.entries.delete(id);
      });
    }
    return signal ? untilAborted(entry, signal) : entry;
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new AbortedError(String(signal.reason ?? 'aborted')));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError(String(signal.reason ?? 'aborted')));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
