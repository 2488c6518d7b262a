/**
 * The Lambda event contract (docs/deploy.md, "The function"), validated at the edge.
 * Scheduled: `{"source": "s", "scheduledTime": "<aws.scheduler.scheduled-time>"}`.
 * Backfill/ad hoc: `{"source": "s", "stream": "t"?, "window": {"start": ISO, "end": ISO}, "force": bool?, "taskToken": "…"?}`;
 * a backfill's state machine adds `taskToken`, which the durable function answers when the window ends.
 *
 * Checked by hand rather than with zod: the event is the only input the function validates at
 * run time (the source definition is validated at synth and compiled in), and zod was ~30 % of
 * the bundle and of its module init. Two flat shapes do not need a schema library.
 */

import { InputError } from '../errors.js';
import { parseInstant } from '../window/parseInstant.js';

/** What the handler was asked to do. */
export type IngestEvent =
  | { readonly kind: 'scheduled'; readonly source: string; readonly scheduledTime: Date }
  | {
      readonly kind: 'window';
      readonly source: string;
      readonly stream?: string;
      readonly start: Date;
      readonly end: Date;
      readonly force: boolean;
      /** The Step Functions task waiting for this window's outcome (SendTaskSuccess/SendTaskFailure). */
      readonly taskToken?: string;
    };

/** An ISO 8601 date-time with seconds and an offset, as Scheduler sends `scheduled-time`. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
const DATE_TIME_MESSAGE = 'must be an ISO 8601 date-time such as 2024-01-01T00:00:00Z';
/** The longest task token Step Functions accepts (SendTaskSuccess, `taskToken`: 1 to 2,048 characters). */
const TASK_TOKEN_MAX = 2048;

type Fields = Record<string, unknown>;

/**
 * Validates an event; every problem is listed with its path.
 * @throws InputError
 */
export function parseIngestEvent(event: unknown): IngestEvent {
  const isWindow = isObject(event) && 'window' in event;
  const problems: string[] = [];
  const expected = isWindow ? '{source, stream?, window: {start, end}, force?, taskToken?}' : '{source, scheduledTime}';
  if (!isObject(event)) {
    problems.push(`(event): expected an object, received ${describe(event)}`);
  } else if (isWindow) {
    unknownFields(event, ['source', 'stream', 'window', 'force', 'taskToken'], '', problems);
    text(event, 'source', '', problems, true);
    text(event, 'stream', '', problems, false);
    text(event, 'taskToken', '', problems, false);
    // Its length only: the token is a credential of the waiting task, never echoed in an error.
    if (typeof event.taskToken === 'string' && event.taskToken.length > TASK_TOKEN_MAX) problems.push(`taskToken: expected at most ${TASK_TOKEN_MAX} characters, received ${event.taskToken.length}`);
    if (event.force !== undefined && typeof event.force !== 'boolean') problems.push(`force: expected a boolean, received ${describe(event.force)}`);
    const window = event.window;
    if (!isObject(window)) problems.push(`window: expected an object {start, end}, received ${describe(window)}`);
    else {
      unknownFields(window, ['start', 'end'], 'window.', problems);
      instant(window, 'start', 'window.', problems);
      instant(window, 'end', 'window.', problems);
    }
  } else {
    unknownFields(event, ['source', 'scheduledTime'], '', problems);
    text(event, 'source', '', problems, true);
    instant(event, 'scheduledTime', '', problems);
  }
  if (problems.length > 0) throw new InputError(`invalid event, expected ${expected}: ${problems.join('; ')}`, { context: { problems } });

  const fields = event as Fields;
  if (!isWindow) return { kind: 'scheduled', source: fields.source as string, scheduledTime: parseInstant(fields.scheduledTime as string)! };
  const window = fields.window as Fields;
  const start = parseInstant(window.start as string)!;
  const end = parseInstant(window.end as string)!;
  if (start >= end) throw new InputError(`invalid event: window.start ${String(window.start)} must be before window.end ${String(window.end)}`);
  const taskToken = fields.taskToken as string | undefined;
  return {
    kind: 'window',
    source: fields.source as string,
    stream: fields.stream as string | undefined,
    start,
    end,
    force: (fields.force as boolean | undefined) ?? false,
    ...(taskToken === undefined ? {} : { taskToken }),
  };
}

function isObject(value: unknown): value is Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : value === undefined ? 'nothing' : typeof value;
}

function unknownFields(fields: Fields, known: readonly string[], at: string, problems: string[]): void {
  for (const key of Object.keys(fields)) if (!known.includes(key)) problems.push(`${at}${key}: unknown field`);
}

function text(fields: Fields, key: string, at: string, problems: string[], required: boolean): void {
  const value = fields[key];
  if (value === undefined && !required) return;
  if (typeof value !== 'string' || value === '') problems.push(`${at}${key}: expected a non-empty string, received ${typeof value === 'string' ? 'an empty one' : describe(value)}`);
}

function instant(fields: Fields, key: string, at: string, problems: string[]): void {
  const value = fields[key];
  if (typeof value !== 'string' || !DATE_TIME.test(value) || parseInstant(value) === undefined) problems.push(`${at}${key}: ${DATE_TIME_MESSAGE}`);
}
