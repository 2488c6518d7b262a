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
  const rate = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(schedule.trim());
  if (rate) {
    const [, value, unit] = rate;
    // Scheduler rejects rate(1 minutes) and rate(2 minute): singular only for 1.
    return Number(value) > 0 && (Number(value) === 1) === !unit!.endsWith('s');
  }
  const cron = /^cron\((.+)\)$/.exec(schedule.trim());
  return cron !== null && cron[1]!.trim().split(/\s+/).length === 6;
}
