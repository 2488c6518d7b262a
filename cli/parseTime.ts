import { InputError } from '../functions/errors.js';

/**
 * Parses a `--from`/`--to` value: `2024-01-01`, `2024-01-01T06:00`, or full ISO 8601 with an
 * offset. A value without an offset is UTC, whatever the machine's time zone.
 * @throws InputError naming the flag and the value.
 */
export function parseTimeFlag(flag: string, value: string): Date {
  let text = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) text += 'T00:00:00Z';
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) text += 'Z';
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(date.getTime())) {
    throw new InputError(`${flag} "${value}" is not a date-time: expected ISO 8601 such as 2024-01-01 or 2024-01-01T06:00:00Z`);
  }
  return date;
}
