/**
 * The reservation algorithm of a shared rate budget: one queue of request slots per source (the
 * generic cell rate algorithm's theoretical arrival time, `tat`), kept in a store every run of
 * the source reaches, and booked with one atomic step of that store.
 *
 * Invariants (what makes N runs on one source keep to `requests_per_second` together):
 * 1. Slots are handed out at most once and at least `interval` apart: a booking of k slots takes
 *    `[first, first + k·interval)` with `first ≥ tat` and moves `tat` to the end of them. `tat`
 *    only ever grows, so a booking applied twice (its response lost and the write retried) only
 *    takes slots nobody uses: it spends less, never more.
 * 2. A run sends a request only within `lateMs` after the start of a slot it booked; a slot it
 *    reaches later is dropped, never spent late, so requests bunched by a busy event loop cannot
 *    exceed the rate.
 * 3. `interval = (1000 + jitterMs) / requests_per_second`, with `jitterMs` covering that lateness,
 *    the spread of the network's delays to the API and the offset between the runs' clocks. Then
 *    the requests reaching the API in any second come from slots within `1000 + jitterMs`, of
 *    which there are at most `requests_per_second` (rounded up): no burst beyond it.
 * 4. A pause asked for by the server (Retry-After, a spent quota) moves `tat` to the pause's end:
 *    every run's next slot is after it.
 * 5. A run books no slot further ahead than `latest` (it would wait too long): it is told where
 *    the queue ends and comes back when that is within reach, so a long queue costs no writes.
 *
 * The DynamoDB store applies these rules with condition expressions; stores that replace their
 * whole state at once (the lake folder's) call the functions here.
 */

/** A request to book `count` slots `intervalMs` apart. */
export interface BookRequest {
  readonly count: number;
  readonly intervalMs: number;
  /** The first slot is at or after this (the caller's now plus the time the answer takes). */
  readonly earliest: number;
  /** Book nothing when the queue's next free slot lies past this. */
  readonly latest: number;
}

/** The outcome of a {@link BookRequest}. */
export type Booking =
  /** Slots `first`, `first + intervalMs`, … are the caller's. */
  | { readonly kind: 'booked'; readonly first: number }
  /** The queue is booked until `nextFree`, past `latest`: nothing was booked. */
  | { readonly kind: 'behind'; readonly nextFree: number };

/** The queue's state: the start of its next free slot (epoch ms); absent before the first booking. */
export interface SlotQueue {
  readonly tat?: number;
}

/** Milliseconds between two slots of a source allowed `requestsPerSecond` (invariant 3). */
export function slotIntervalMs(requestsPerSecond: number, jitterMs: number): number {
  return (1000 + jitterMs) / requestsPerSecond;
}

/**
 * Books slots at the end of the queue when it reaches no further than `latest`, or from
 * `earliest` when the queue is idle (its next free slot has passed: slots left unbooked in
 * between are lost, which only spends less).
 */
export function bookSlots(queue: SlotQueue, request: BookRequest): { queue: SlotQueue; booking: Booking } {
  const span = request.count * request.intervalMs;
  const { tat } = queue;
  if (tat === undefined || tat < request.earliest) return { queue: { tat: request.earliest + span }, booking: { kind: 'booked', first: request.earliest } };
  if (tat <= request.latest) return { queue: { tat: tat + span }, booking: { kind: 'booked', first: tat } };
  return { queue, booking: { kind: 'behind', nextFree: tat } };
}

/** Holds the queue until `untilMs`: no slot starts before it (invariant 4). */
export function pauseQueue(queue: SlotQueue, untilMs: number): SlotQueue {
  return queue.tat !== undefined && queue.tat >= untilMs ? queue : { tat: untilMs };
}
