/**
 * Where a backfill in AWS keeps its objects in the lake bucket: the window list the CLI writes and
 * the Distributed Map reads, and the map's per-window results. No CDK imports: the CLI loads it.
 */

/** The top-level area of the lake bucket holding backfills' window lists and results. */
export const BACKFILL_PREFIX = 'backfills';

/** `backfills/source=<s>/`: everything of one source's backfills; the state machine reads nothing else. */
export function backfillSourcePrefix(source: string): string {
  return `${BACKFILL_PREFIX}/source=${source}/`;
}

/** The window list of one backfill: `backfills/source=<s>/items/<name>.json`. */
export function backfillItemsKey(source: string, name: string): string {
  return `${backfillSourcePrefix(source)}items/${name}.json`;
}

/** Where the map writes its results: `<prefix>/<map run id>/{manifest,SUCCEEDED_n,FAILED_n}.json`. */
export function backfillResultsPrefix(source: string): string {
  return `${backfillSourcePrefix(source)}results`;
}

/** What a backfill execution is started with: the state machine reads `items`; the rest tells `--status` what it covers. */
export interface BackfillInput {
  /** The window list's key in the lake bucket (a JSON array of backfill events). */
  readonly items: string;
  /** The lake bucket, for the CLI (the state machine reads its own bucket, whatever this says). */
  readonly bucket: string;
  readonly source: string;
  /** Absent: every landed stream. */
  readonly stream?: string;
  /** The range as aligned to the streams' windows (ISO 8601). */
  readonly from: string;
  readonly to: string;
  /** Windows in the list (committed ones are left out unless forced). */
  readonly windows: number;
  /** Windows of the range already committed when the backfill started. */
  readonly committed: number;
  readonly force: boolean;
}
