/**
 * The pages of one walk that have been requested but not yet handed to the consumer: each gets
 * its turn (every earlier page landed) and a signal that aborts it when paging no longer needs it.
 */

import type { PageContext, PageRequest, PageResponse } from './PaginationStrategy.js';

/** What a page fetch is told about its place in the order. */
export interface PageSlot {
  /**
   * Resolves once every earlier page has been landed by the consumer: from then on this page's
   * records may land while its body still arrives. Rejects when the page is discarded.
   */
  readonly turn: Promise<void>;
  /** Aborts when paging no longer needs the page (an early stop, a failure, a page past the end) or the walk's signal aborts. */
  readonly signal: AbortSignal;
}

/** Fetches one page; `index` is 0-based. */
export type PageFetcher<R extends PageResponse = PageResponse> = (request: PageRequest, index: number, slot: PageSlot) => Promise<PageContext<R>>;

/** Why a page was dropped unlanded. */
export class PageDiscarded extends Error {
  constructor(index: number) {
    super(`page ${index + 1} is not needed: paging ended before it`);
    this.name = 'PageDiscarded';
  }
}

interface Pending<R extends PageResponse> {
  readonly page: Promise<PageContext<R>>;
  readonly controller: AbortController;
  readonly startTurn: () => void;
  readonly discard: (reason: Error) => void;
}

/** Pages requested and not yet taken, by index. */
export class PagesInFlight<R extends PageResponse = PageResponse> {
  private readonly pending = new Map<number, Pending<R>>();
  /** The first page not yet landed: its turn has come. */
  private turnIndex: number;
  private readonly onOuterAbort = () => {
    for (const { controller } of this.pending.values()) controller.abort(this.outer!.reason);
  };

  /**
   * @param outer aborts every page in flight too (the window's abort). One listener for the whole
   *   walk: an `AbortSignal.any` per page was a composite signal built between one page's
   *   response and the next page's request.
   * @param firstIndex the walk's first page (a walk continued from a stored position starts past 0)
   */
  constructor(
    private readonly fetchPage: PageFetcher<R>,
    private readonly outer?: AbortSignal,
    firstIndex = 0,
  ) {
    this.turnIndex = firstIndex;
    outer?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  /** How many pages are requested and not yet taken. */
  get size(): number {
    return this.pending.size;
  }

  /** Requests page `index`. */
  start(request: PageRequest, index: number): void {
    const controller = new AbortController();
    let startTurn!: () => void;
    let discard!: (reason: Error) => void;
    const turn = new Promise<void>((resolve, reject) => {
      startTurn = resolve;
      discard = reject;
    });
    // A discarded page whose fetch never waited for its turn must not surface as unhandled.
    turn.catch(() => undefined);
    if (this.outer?.aborted) controller.abort(this.outer.reason);
    const page = this.fetchPage(request, index, { turn, signal: controller.signal });
    page.catch(() => undefined);
    this.pending.set(index, { page, controller, startTurn, discard });
    if (index === this.turnIndex) startTurn();
  }

  /** Waits for page `index` and hands it over; it stays the turn page until {@link landed}. */
  async take(index: number): Promise<PageContext<R>> {
    const pending = this.pending.get(index);
    if (!pending) throw new Error(`page ${index + 1} was never requested`);
    try {
      return await pending.page;
    } finally {
      this.pending.delete(index);
    }
  }

  /** The consumer landed page `index`: the next page's turn begins. */
  landed(index: number): void {
    this.turnIndex = index + 1;
    this.pending.get(this.turnIndex)?.startTurn();
  }

  /** Aborts every page still requested: paging ended or failed. */
  abandon(): void {
    this.outer?.removeEventListener('abort', this.onOuterAbort);
    for (const [index, pending] of this.pending) {
      const reason = new PageDiscarded(index);
      pending.discard(reason);
      pending.controller.abort(reason);
    }
    this.pending.clear();
  }
}
