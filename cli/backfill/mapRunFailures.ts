/**
 * Why the windows of a backfill in AWS failed, from the result files its Distributed Map wrote:
 * `manifest.json` lists the `FAILED_<n>.json` files, each an array of the failed child executions
 * with their input (the window's event), error and cause
 * (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
 */

import type { LakeStorage } from '../../functions/index.js';
import { eventWindowId, parseWindowList } from './windowList.js';

/** The map state's output when it writes its results: where the results manifest is. */
interface MapOutput {
  readonly ResultWriterDetails?: { readonly Bucket?: string; readonly Key?: string };
}

/** A failed child execution as a FAILED file records it. */
interface FailedItem {
  readonly Input?: string;
  readonly Error?: string;
  readonly Cause?: string;
}

/**
 * The reason of each failed window, by `windowId`, read from the results of the execution whose
 * output is `output`. Empty when there are none or they cannot be read: the reasons only add to
 * what the lake already says (the window is not committed).
 */
export async function mapRunFailures(storage: LakeStorage, output: string | undefined): Promise<Map<string, string>> {
  const reasons = new Map<string, string>();
  const key = parse<MapOutput>(output)?.ResultWriterDetails?.Key;
  if (!key) return reasons;
  const manifest = parse<{ ResultFiles?: { FAILED?: { Key?: string }[] } }>((await storage.read(key))?.toString('utf8'));
  for (const file of manifest?.ResultFiles?.FAILED ?? []) {
    if (!file.Key) continue;
    for (const item of parse<FailedItem[]>((await storage.read(file.Key))?.toString('utf8')) ?? []) {
      const [event] = parseWindowList(`[${item.Input ?? 'null'}]`) ?? [];
      if (event) reasons.set(eventWindowId(event), describeFailure(item));
    }
  }
  return reasons;
}

/** `WindowsFailedError: 1 window(s) failed: …`: a Lambda function error's cause is its JSON error payload. */
function describeFailure(item: FailedItem): string {
  const payload = parse<{ errorType?: string; errorMessage?: string }>(item.Cause);
  if (payload?.errorMessage) return `${payload.errorType ?? item.Error ?? 'error'}: ${payload.errorMessage}`;
  return [item.Error, item.Cause].filter(Boolean).join(': ') || 'failed, no reason recorded';
}

function parse<T>(text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
