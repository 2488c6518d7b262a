/**
 * What a local run's pace says about the deployed function: a window deployed lands in slices of
 * one invocation each, and each slice must fill a part, so a stream whose parts filled slowly here
 * would fail there, or take more invocations than it needs.
 */

import { canSlice, DEFAULT_DEADLINE_MARGIN_MS, describeWindow, PART_TIME_SPARE, partTimeLimits, type SourceDefinition, type WindowResult } from '../../functions/index.js';

/** The slowest part of one stream in a run, and the window it was in. */
interface SlowestPart {
  readonly ms: number;
  readonly window: WindowResult['window'];
}

/**
 * One warning per stream whose windows cannot be landed in slices (a parent or max_results) and
 * whose slowest window took longer than a deployed invocation has; then one per
 * stream whose slowest part filled slower than the deployed function allows
 * (`lambda.timeout_seconds` and the deadline margin its slices keep), or, softer, slower than a
 * fifth of an invocation; none for a stream whose parts filled fast.
 */
export function slowPartWarnings(source: SourceDefinition, results: readonly WindowResult[]): string[] {
  const limits = partTimeLimits(source.lambda.timeout_seconds * 1000, DEFAULT_DEADLINE_MARGIN_MS);
  const slowest = slowestPerStream(results, (result) => result.slowestPartMs);
  const timeout = `lambda.timeout_seconds ${source.lambda.timeout_seconds}`;
  const warnings: string[] = [];
  /** Streams whose windows land in one invocation deployed (a parent or max_results). A job stream's wait for its job pauses between invocations deployed, so a run's time of its window says nothing of one invocation. */
  const landedWhole = new Set(source.streams.filter((s) => !canSlice(s) && s.job === undefined).map((s) => s.name));
  const whole = slowestPerStream(results, (result) => (landedWhole.has(result.stream) && result.status === 'committed' ? result.durationMs : undefined));
  for (const [stream, window] of whole) {
    if (window.ms <= limits.sliceMs) continue;
    warnings.push(
      `stream ${stream}: a window took ${seconds(window.ms)} to land (window ${describeWindow(window.window)}); it has a parent or max_results, so deployed each window lands in one invocation, ` +
        `which has ${seconds(limits.sliceMs)} before its deadline with ${timeout}: such a window fails there. Raise lambda.timeout_seconds (at most 900), or give the stream a shorter window.`,
    );
  }
  const partSize = `lake.part_size_mb (now ${source.lake.part_size_mb})`;
  for (const [stream, part] of slowest) {
    // A stream landed in one slice deployed was judged by its window's time above: its parts never end a slice. A job's download ends slices at its parts (its result files) like any stream's pages.
    const definition = source.streams.find((s) => s.name === stream);
    if (definition && !canSlice(definition)) continue;
    const took = `stream ${stream}: its slowest part took ${seconds(part.ms)} to fill (window ${describeWindow(part.window)})`;
    if (part.ms > limits.partMs) {
      const outcome =
        part.ms > limits.sliceMs ? 'so no part reaches its boundary within an invocation and its windows fail at once (PartTooSlowError)' : 'so a part slower than this one fails its window';
      warnings.push(
        `${took}; deployed with ${timeout}, a slice has ${seconds(limits.sliceMs)} before its deadline and lands parts that fill within ${seconds(limits.partMs)} ` +
          `(with room for one ${PART_TIME_SPARE} times as slow), ${outcome}. Raise lambda.timeout_seconds (at most 900), or lower ${partSize} so a part fills within a fifth of an invocation ` +
          `(${seconds(limits.fewestInvocationsMs)}), or, if a single page takes that long, ask for smaller pages (the stream's page size parameter).`,
      );
    } else if (part.ms > limits.fewestInvocationsMs) {
      warnings.push(
        `${took}, more than a fifth of ${timeout} (${seconds(limits.fewestInvocationsMs)}): deployed, its windows take more invocations than they need, down to one a part. ` +
          `Lower ${partSize} or raise lambda.timeout_seconds for fewer.`,
      );
    }
  }
  return warnings;
}

/** Per stream, the window where `measure` is largest (undefined: not measured), and that measure. */
function slowestPerStream(results: readonly WindowResult[], measure: (result: WindowResult) => number | undefined): Map<string, SlowestPart> {
  const slowest = new Map<string, SlowestPart>();
  for (const result of results) {
    const ms = measure(result);
    if (ms === undefined) continue;
    const before = slowest.get(result.stream);
    if (!before || ms > before.ms) slowest.set(result.stream, { ms, window: result.window });
  }
  return slowest;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
