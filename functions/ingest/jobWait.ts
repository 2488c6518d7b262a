/**
 * When a slice of a job stream's durable window stops waiting for its export job inside the
 * invocation and pauses instead (a durable wait until the next poll, after which another
 * invocation polls the same job): when the wait would run into the slice's reserve, or when
 * waiting suspended costs less than waiting in a running invocation.
 *
 * What a pause costs, at us-east-1 list prices (bench/awsPrices.ts; durable operations at $8.00
 * per million, https://aws.amazon.com/lambda/pricing/): two durable operations (the slice's step
 * and the wait), $16 per million pauses; the next invocation's request, $0.20; reopening the
 * window and reading its job record, two S3 LISTs and two GETs, about $11; the source's secret
 * read again, $5. About $32 per million, the price of 2.4 GB-seconds of Arm Lambda, plus the
 * new invocation's own replay and reopening, about 0.3 s at the function's memory. A wait inside
 * an invocation is billed for the function's memory throughout, and a suspended one not at all
 * (https://docs.aws.amazon.com/lambda/latest/dg/durable-functions.html): at 512 MB a wait longer
 * than about 5 s costs more awake than paused, at 128 MB one longer than about 20 s.
 */

/** What a pause costs beyond the new invocation's own time, in GB-seconds of Arm Lambda. */
export const PAUSE_COST_GB_SECONDS = 2.4;
/** The new invocation's own time after a pause (replay, reopening the window), in ms. */
export const PAUSE_INVOCATION_MS = 300;
/**
 * The shortest wait that pauses while the invocation still has room for it: each pause adds two
 * operations to the execution's history and a Lambda invocation, so a job polled every few
 * seconds is polled from a running invocation, where each poll costs only its request.
 */
export const MIN_PAUSED_WAIT_MS = 10_000;

/** What the decision depends on, in ms and MB (see {@link pausesForJob}). */
export type JobWaitInput = Readonly<Record<'waitMs' | 'leftMs' | 'reserveMs', number>> & { readonly memoryMb: number | undefined };

/** The shortest wait for which pausing costs less than waiting in an invocation of `memoryMb`, in ms. */
export function pausedWaitFromMs(memoryMb: number | undefined): number {
  if (memoryMb === undefined || !Number.isFinite(memoryMb) || memoryMb <= 0) return MIN_PAUSED_WAIT_MS;
  const breakEvenMs = (PAUSE_COST_GB_SECONDS / (memoryMb / 1024)) * 1000 + PAUSE_INVOCATION_MS;
  return Math.max(MIN_PAUSED_WAIT_MS, Math.ceil(breakEvenMs));
}

/**
 * Whether the slice pauses rather than wait for the job's next poll.
 * @param input.waitMs how long until the next poll (`poll.every`, or the last poll's Retry-After)
 * @param input.leftMs the time the invocation has left now
 * @param input.reserveMs what the slice keeps for reaching the first part boundary of the job's download and stopping (its reserve)
 * @param input.memoryMb the function's memory (the Lambda context's `memoryLimitInMB`); undefined when unknown
 */
export function pausesForJob({ waitMs, leftMs, reserveMs, memoryMb }: JobWaitInput): boolean {
  // After the wait the poll may find the job done: its download must still have the reserve to reach a place to stop.
  if (leftMs - waitMs < reserveMs) return true;
  return waitMs >= pausedWaitFromMs(memoryMb);
}
