/**
 * `{job.key}`: the idempotency key of a window's job creation. It is a pure function of what
 * every attempt of the window knows before it sends `create` (the window, the commit it lands,
 * how many of its jobs were abandoned, and the create request as configured), so a retried POST,
 * and the next attempt after a kill between the API's answer and the job record's write, send the
 * same key, and an API that honours it answers with the job it already created.
 */

import { createHash } from 'node:crypto';
import type { WindowRef } from '../sink/lakeLayout.js';

/** What a window's job key is derived from. */
export interface JobKeyInput {
  readonly ref: WindowRef;
  /** The commit the job lands: a `--force` lands a new commit, so it creates a new job. */
  readonly commit: number;
  /** Jobs of this commit abandoned before (failed or timed out): the next one needs a new key. */
  readonly generation: number;
  /** The `create` block as configured: an edited request is a new request, not a replay. */
  readonly create: unknown;
}

/** `apilake-` and 32 hex digits: 40 characters, a header-safe token, and nothing secret in it. */
export const JOB_KEY_PATTERN = /^apilake-[0-9a-f]{32}$/;

/**
 * The key of a window's job creation.
 * @example jobKey({ ref, commit: 1, generation: 0, create: job.create }) // 'apilake-3f1c…' (40 characters)
 */
export function jobKey(input: JobKeyInput): string {
  const { ref } = input;
  const facts = [ref.source, ref.stream, ref.window.start.toISOString(), ref.window.end.toISOString(), input.commit, input.generation, input.create];
  return `apilake-${createHash('sha256').update(JSON.stringify(facts)).digest('hex').slice(0, 32)}`;
}
