import { InputError, parseInstant, type WindowSelection } from '../functions/index.js';

/**
 * Parses a `--from`/`--to` value: `2024-01-01`, `2024-01-01T06:00`, or full ISO 8601 with an
 * offset. A value without an offset is UTC, whatever the machine's time zone. A date or time
 * that does not exist (2024-02-30, 24:00) is malformed, not shifted to the next day.
 * @throws InputError naming the flag and the value.
 */
export function parseTimeFlag(flag: string, value: string): Date {
  const date = parseInstant(value.trim());
  if (date === undefined) {
    throw new InputError(`${flag} "${value}" is not a date-time: expected ISO 8601 such as 2024-01-01 or 2024-01-01T06:00:00Z`);
  }
  return date;
}

/**
 * The windows a `--from/--to` pair asks for: the latest complete window without `--from`,
 * otherwise every window of the range that has ended by `now` (`--to` defaults to `now`).
 * @throws InputError for a malformed or empty range.
 */
export function selectionFromFlags(options: { from?: string; to?: string }, now: Date): WindowSelection {
  if (options.to !== undefined && options.from === undefined) throw new InputError('--to needs --from');
  if (options.from === undefined) return { kind: 'latest', at: now };
  const from = parseTimeFlag('--from', options.from);
  const to = options.to === undefined ? now : parseTimeFlag('--to', options.to);
  if (from.getTime() >= to.getTime()) throw new InputError(`--from ${from.toISOString()} must be before --to ${to.toISOString()}`);
  return { kind: 'range', from, to, completeBy: now };
}
