/**
 * Runs one lane (an async sequence) per key, up to `width` lanes at once, and yields the items of
 * the lanes grouped by lane in key order: what lets a child stream page several parents
 * concurrently while its records still land parent by parent.
 */

/**
 * Yields every item of `lane(key)` for each key of `keys`, lane after lane in key order, with at
 * most `width` lanes started ahead. Memory stays bounded: a lane that is not at the head holds at
 * most one item (it pauses until it becomes the head), and the head runs one item ahead of the
 * consumer, so at most `width + 1` items are held whatever the number of keys or items per lane.
 * The first lane (or key sequence) to fail fails the whole sequence at once; on any exit the lanes
 * still open are closed.
 */
export async function* inOrderLanes<K, T>(keys: AsyncIterable<K>, width: number, lane: (key: K) => AsyncIterable<T>): AsyncGenerator<T> {
  let failure: { error: unknown } | undefined;
  let rejectFailed!: (error: unknown) => void;
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
  failed.catch(() => undefined);
  const onFailure = (error: unknown) => {
    if (failure) return;
    failure = { error };
    rejectFailed(error);
  };

  const pendingKeys = new Lookahead(keys[Symbol.asyncIterator](), onFailure);
  const lanes: Lookahead<T>[] = [];
  let keysDone = false;
  try {
    for (;;) {
      while (!keysDone && lanes.length < Math.max(1, width)) {
        const next = await Promise.race([pendingKeys.take(), failed]);
        if (next.done) keysDone = true;
        else lanes.push(new Lookahead(lane(next.value)[Symbol.asyncIterator](), onFailure));
      }
      const head = lanes[0];
      if (!head) return;
      const item = await Promise.race([head.take(), failed]);
      if (item.done) lanes.shift();
      else yield item.value;
    }
  } finally {
    pendingKeys.close();
    for (const open of lanes) open.close();
  }
}

/** An async iterator that always has its next item on the way: one item of lookahead, no more. */
class Lookahead<T> {
  private pending: Promise<IteratorResult<T>>;
  private closed = false;

  constructor(
    private readonly iterator: AsyncIterator<T>,
    private readonly onFailure: (error: unknown) => void,
  ) {
    this.pending = this.pull();
  }

  /** The next item; the one after it is requested at once. */
  async take(): Promise<IteratorResult<T>> {
    const result = await this.pending;
    // A take abandoned by a failure elsewhere must not pull on after the lane was closed.
    if (!result.done && !this.closed) this.pending = this.pull();
    return result;
  }

  /** Ends the iterator (after the pull in flight, if any); never throws. */
  close(): void {
    this.closed = true;
    this.pending.then(
      (result) => (result.done ? undefined : this.iterator.return?.()?.catch(() => undefined)),
      () => undefined,
    );
  }

  private pull(): Promise<IteratorResult<T>> {
    const next = this.iterator.next();
    // Reported at once, so one failing lane stops the window without waiting to become the head.
    next.catch(this.onFailure);
    return next;
  }
}
