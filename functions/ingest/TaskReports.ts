/**
 * Where a window's outcome goes when a Step Functions task waits for it: the callback pattern of a
 * backfill, whose state machine invokes the function asynchronously with a task token and waits
 * until the function answers with that token (SendTaskSuccess or SendTaskFailure).
 */

/** `sent`: Step Functions took the answer; `closed`: it no longer waits for the token (the task timed out, or was answered before). */
export type TaskReportOutcome = 'sent' | 'closed';

/** The two answers to a waiting task. */
export interface TaskReports {
  /** Reports success with `output`, JSON text of at most 256 KiB. */
  succeed(taskToken: string, output: string): Promise<TaskReportOutcome>;
  /** Reports failure with an error name and its cause (at most {@link TASK_CAUSE_MAX} characters). */
  fail(taskToken: string, error: string, cause: string): Promise<TaskReportOutcome>;
}

/** The longest cause SendTaskFailure accepts: 32,768 characters. */
export const TASK_CAUSE_MAX = 32_768;

/**
 * A failure's cause cut to what SendTaskFailure accepts, saying how much was cut: the head names
 * the failed windows, which matters more than the end of a long message.
 * @example fitCause('x'.repeat(40_000)) // 'xxx…' + ' … (7,xxx more characters)'
 */
export function fitCause(cause: string, max: number = TASK_CAUSE_MAX): string {
  if (cause.length <= max) return cause;
  const tail = (cut: number) => ` … (${cut} more characters)`;
  // The tail's own length depends on the count it states: size it for the largest count first.
  const keep = max - tail(cause.length).length;
  return `${cause.slice(0, keep)}${tail(cause.length - keep)}`;
}
