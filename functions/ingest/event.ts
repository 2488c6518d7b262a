/**
 * The Lambda event contract (DESIGN.md 3.4), validated at the edge.
 * Scheduled: `{"source": "s", "scheduledTime": "<aws.scheduler.scheduled-time>"}`.
 * Backfill/ad hoc: `{"source": "s", "stream": "t"?, "window": {"start": ISO, "end": ISO}, "force": bool?}`.
 */

import { z } from 'zod';
import { InputError } from '../errors.js';
import { formatPath } from '../config/loadSources.js';

const isoInstant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time such as 2024-01-01T00:00:00Z' });

/** A tick from EventBridge Scheduler. */
export const scheduledEventSchema = z.strictObject({
  source: z.string().min(1),
  scheduledTime: isoInstant,
});

/** A backfill or ad hoc run of one window. */
export const windowEventSchema = z.strictObject({
  source: z.string().min(1),
  stream: z.string().min(1).optional(),
  window: z.strictObject({ start: isoInstant, end: isoInstant }),
  force: z.boolean().default(false),
});

/** What the handler was asked to do. */
export type IngestEvent =
  | { readonly kind: 'scheduled'; readonly source: string; readonly scheduledTime: Date }
  | { readonly kind: 'window'; readonly source: string; readonly stream?: string; readonly start: Date; readonly end: Date; readonly force: boolean };

/**
 * Validates an event; every problem is listed with its path.
 * @throws InputError
 */
export function parseIngestEvent(event: unknown): IngestEvent {
  const isWindow = event !== null && typeof event === 'object' && 'window' in event;
  const schema = isWindow ? windowEventSchema : scheduledEventSchema;
  const parsed = schema.safeParse(event);
  if (!parsed.success) {
    const expected = isWindow ? '{source, stream?, window: {start, end}, force?}' : '{source, scheduledTime}';
    const problems = parsed.error.issues.map((i) =>
      i.code === 'unrecognized_keys' ? `${i.keys.map((k) => formatPath([...i.path, k])).join(', ')}: unknown field` : `${formatPath(i.path) || '(event)'}: ${i.message}`,
    );
    throw new InputError(`invalid event, expected ${expected}: ${problems.join('; ')}`, { context: { problems } });
  }
  if ('scheduledTime' in parsed.data) return { kind: 'scheduled', source: parsed.data.source, scheduledTime: new Date(parsed.data.scheduledTime) };
  const { source, stream, window, force } = parsed.data as z.output<typeof windowEventSchema>;
  const start = new Date(window.start);
  const end = new Date(window.end);
  if (start >= end) throw new InputError(`invalid event: window.start ${window.start} must be before window.end ${window.end}`);
  return { kind: 'window', source, stream, start, end, force };
}
