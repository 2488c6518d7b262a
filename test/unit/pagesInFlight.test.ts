/**
 * Pages discarded while in flight never leave a rejection unobserved, whatever order their fetches
 * and their discard come in: an unhandled rejection ends a Lambda invocation's process. The order
 * is forced with promises the test settles itself; each case ends one turn of the event loop
 * later, when Node reports the rejections still unhandled.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FetchedPage } from '../../functions/engine/fetchPage.js';
import { PageDiscarded, PagesInFlight, type PageSlot } from '../../functions/pagination/PagesInFlight.js';
import type { PageContext, PageRequest } from '../../functions/pagination/PaginationStrategy.js';
import { pageResponse } from '../support/pageResponse.js';

/** A page fetch the test settles: as a transport would, it may reject with its signal's reason. */
interface Fetch {
  readonly index: number;
  readonly slot: PageSlot;
  resolve(): void;
  rejectWithReason(): void;
}

const request: PageRequest = { url: new URL('https://api.test/items') };

function fetcher() {
  const fetches: Fetch[] = [];
  const fetchPage = (req: PageRequest, index: number, slot: PageSlot) =>
    new Promise<PageContext<FetchedPage>>((resolve, reject) => {
      fetches.push({
        index,
        slot,
        resolve: () => resolve({ request: req, index, response: pageResponse(req.url, {}, [index], {}) }),
        rejectWithReason: () => reject(slot.signal.reason as Error),
      });
    });
  return { fetches, fetchPage };
}

/** The next turn of the event loop: Node has reported every rejection left unhandled in this one. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

let unhandled: unknown[];
const record = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', record);
});
afterEach(() => {
  process.off('unhandledRejection', record);
});

describe('PagesInFlight', () => {
  it.each([
    ['fetches that reject after the discard, never having looked at their turn', (f: Fetch) => f.rejectWithReason()],
    ['fetches that wait for their turn first, then reject', (f: Fetch) => void f.slot.turn.catch(() => f.rejectWithReason())],
    ['fetches that never settle', () => undefined],
    ['fetches that answer after the discard', (f: Fetch) => f.resolve()],
  ])('leaves no rejection unobserved when pages are discarded: %s', async (_case, settle) => {
    const { fetches, fetchPage } = fetcher();
    const inFlight = new PagesInFlight(fetchPage);
    for (let index = 0; index < 4; index++) inFlight.start(request, index);
    fetches[0]!.resolve();
    await inFlight.take(0);
    inFlight.landed(0);
    inFlight.abandon();
    const discarded = fetches.slice(1);
    expect(discarded.map((f): unknown => f.slot.signal.reason)).toEqual([new PageDiscarded(1), new PageDiscarded(2), new PageDiscarded(3)]);
    for (const f of discarded) settle(f);
    await nextTurn();
    await nextTurn();
    expect(unhandled).toEqual([]);
  });

  it('leaves no rejection unobserved when the walk is aborted from outside while pages wait for their turn', async () => {
    const { fetches, fetchPage } = fetcher();
    const outer = new AbortController();
    const inFlight = new PagesInFlight(fetchPage, outer.signal);
    for (let index = 0; index < 3; index++) inFlight.start(request, index);
    outer.abort(new Error('deadline'));
    for (const f of fetches) f.rejectWithReason();
    await expect(inFlight.take(0)).rejects.toThrow('deadline');
    inFlight.abandon();
    await nextTurn();
    await nextTurn();
    expect(unhandled).toEqual([]);
  });
});
