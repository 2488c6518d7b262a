/** Window sizes and schedule intervals, parsed into milliseconds. */

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const RATE_UNIT_MS: Readonly<Record<string, number>> = {
  minute: UNIT_MS.m,
  minutes: UNIT_MS.m,
  hour: UNIT_MS.h,
  hours: UNIT_MS.h,
  day: UNIT_MS.d,
  days: UNIT_MS.d,
};

/** Smallest window we accept: below a minute the per-window overhead dominates. */
export const MIN_WINDOW_MS = UNIT_MS.m;

/**
 * Parses a window size such as `15m`, `1h`, `1d` into milliseconds.
 * @returns the size, or `undefined` when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** Formats milliseconds as the shortest exact duration (`90m`, `1h`, `2d`). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * The interval of an EventBridge Scheduler `rate(...)` expression in milliseconds.
 * @returns `undefined` for `cron(...)` and `at(...)` expressions, which have no fixed interval.
 */
export function rateIntervalMs(schedule: string): number | undefined {
  const match = /^rate\(\s*(\d+)\s+([a-z]+)\s*\)$/.exec(schedule.trim());
  if (!match) return undefined;
  const unit = RATE_UNIT_MS[match[2]!];
  return unit === undefined ? undefined : Number(match[1]) * unit;
}

/** Whether `schedule` is a syntactically valid Scheduler `rate(...)` or six-field `cron(...)` expression. */
export function isScheduleExpression(schedule: string): boolean {
  return scheduleExpressionProblem(schedule) === undefined;
}

/**
 * What is wrong with a Scheduler expression, or undefined when it is a valid `rate(...)` or
 * six-field `cron(...)`. Scheduler takes a rate's value as a positive integer
 * (https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html), the unit
 * singular for 1 and plural above (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html).
 */
export function scheduleExpressionProblem(schedule: string): string | undefined {
  const rate = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(schedule.trim());
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2]!;
    if (value < 1) return `"${schedule}": the number of a rate must be at least 1`;
    const singular = unit.replace(/s$/, '');
    if ((value === 1) !== !unit.endsWith('s')) return `"${schedule}": write rate(1 ${singular}) for one, rate(${value === 1 ? 2 : value} ${singular}s) for more`;
    return undefined;
  }
  const cron = /^cron\((.+)\)$/.exec(schedule.trim());
  if (cron !== null && cron[1]!.trim().split(/\s+/).length === 6) return undefined;
  return `"${schedule}" is not a Scheduler expression: expected rate(<n> minute|minutes|hour|hours|day|days) or cron(<6 fields>)`;
}
