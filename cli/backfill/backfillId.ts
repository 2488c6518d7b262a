/**
 * The names of backfills in AWS: each execution's name says which source and range it covers, so
 * a second `apilake backfill --remote` of the same range finds the running one instead of
 * starting another; and the ids `--status` and `--cancel` accept (the execution's ARN or name).
 */

import { createHash } from 'node:crypto';
import { compactStamp, InputError, parseCompactStamp } from '../../functions/index.js';

/** What identifies the work of a backfill: the same values always give the same range key. */
export interface BackfillRange {
  readonly source: string;
  readonly stream?: string;
  readonly from: string;
  readonly to: string;
  readonly force: boolean;
}

/** Step Functions' limit on an execution name. */
const MAX_NAME = 80;
/** Characters of the source name kept in an execution name (the rest of the name must fit). */
const SOURCE_CHARS = 40;

/** `<source>-<12 hex of the range>`: the start of the name of every backfill of this range. */
export function backfillRangeKey(range: BackfillRange): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([range.source, range.stream ?? null, range.from, range.to, range.force]))
    .digest('hex')
    .slice(0, 12);
  return `${range.source.slice(0, SOURCE_CHARS)}-${digest}`;
}

/** A new execution name for the range: its range key and the time it starts, to the millisecond (`shop-0123456789ab-20240101T000000123Z`). */
export function backfillName(range: BackfillRange, now: Date): string {
  const stamp = compactStamp(now).replace(/Z$/, `${String(now.getUTCMilliseconds()).padStart(3, '0')}Z`);
  return `${backfillRangeKey(range)}-${stamp}`.slice(0, MAX_NAME);
}

/** The time a name of {@link backfillName} carries, in ms; undefined for a name without one. */
export function backfillNameTime(name: string): number | undefined {
  const stamp = /-(\d{8}T\d{6})(\d{3})Z$/.exec(name);
  if (!stamp) return undefined;
  const date = parseCompactStamp(`${stamp[1]}Z`);
  return date === undefined ? undefined : date.getTime() + Number(stamp[2]);
}

/** A backfill id as the user gave it. */
export type BackfillId =
  | { readonly kind: 'arn'; readonly executionArn: string; readonly name: string }
  /** A name: the state machine comes from the stack outputs of its source. */
  | { readonly kind: 'name'; readonly name: string; readonly source: string };

const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[A-Za-z0-9_-]{1,80}:([A-Za-z0-9_-]{1,80})$/;
const NAME = /^([a-z][a-z0-9_]*)-[0-9a-f]{12}-[0-9TZ]+$/;

/**
 * Reads the id `--status` or `--cancel` was given.
 * @throws InputError naming the two forms accepted.
 */
export function parseBackfillId(id: string): BackfillId {
  const trimmed = id.trim();
  const arn = EXECUTION_ARN.exec(trimmed);
  if (arn) return { kind: 'arn', executionArn: trimmed, name: arn[1]! };
  const name = NAME.exec(trimmed);
  if (name) return { kind: 'name', name: trimmed, source: name[1]! };
  throw new InputError(
    `"${id}" is not a backfill id: expected the execution ARN (arn:aws:states:<region>:<account>:execution:<state machine>:<name>) or the name (<source>-<12 hex>-<time>) that apilake backfill --remote printed`,
  );
}

/** The ARN of execution `name` of a state machine: the same account, region and machine name. */
export function executionArn(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
