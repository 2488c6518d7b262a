/**
 * A response body that carries on when its connection breaks mid-way: the reader sees one
 * continuous byte stream, so whatever decodes it (gzip, zip, CSV, JSON Lines) never learns of the
 * break, and no byte is read twice or skipped.
 *
 * Where the first response allows it, the rest is asked for with a range request (RFC 9110 §14.2
 * `Range: bytes=<received>-`), made conditional with `If-Range` (§13.1.5) on the first response's
 * strong validator: an unchanged file answers 206 Partial Content (§15.3.7) with only the bytes
 * not yet read, a changed one answers 200 with all of it. Otherwise, or on that 200, the body is
 * read again from its start, and the bytes already read are compared (SHA-256) with the new
 * response's first bytes and skipped; a difference means the file changed, and the attempt fails.
 */

import { createHash, type Hash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { RetryConfig } from '../config/sourceSchema.js';
import { AbortedError, ApilakeError, BodyResumeError, HttpNetworkError } from '../errors.js';
import { networkReason } from './networkReason.js';
import { decideRetry, isRetryableStatus } from './retryPolicy.js';
import type { ResponseHeaders, TransportResponse } from './Transport.js';

/** What the first response says about continuing its body. */
export interface ResumePlan {
  /** The `If-Range` validator; present only when the server takes byte ranges of a body sent without a content coding. */
  readonly ifRange?: string;
  /** The body's length in bytes, as declared (`Content-Length` of a body sent without a content coding). */
  readonly length?: number;
  /** The validators as first received: a response with others is another version of the file. */
  readonly etag?: string;
  readonly lastModified?: string;
}

/**
 * How to continue the body of a response with these headers.
 * @param partial the response is a 206 to a byte range: the host serves ranges whether or not it says
 *   Accept-Ranges, which some send only on a 200 (nginx's range filter adds it only where it answered
 *   no range: https://github.com/nginx/nginx/blob/master/src/http/modules/ngx_http_range_filter_module.c)
 */
export function resumePlan(headers: ResponseHeaders, partial = false): ResumePlan {
  const coded = isContentCoded(headers);
  const length = coded ? undefined : byteCount(headers.get('content-length'));
  const etag = headers.get('etag') ?? undefined;
  const lastModified = headers.get('last-modified') ?? undefined;
  // Byte offsets count the bytes as sent: with a content coding they are not the bytes the reader got.
  const ranges = !coded && (partial || (headers.get('accept-ranges') ?? '').split(',').some((unit) => unit.trim().toLowerCase() === 'bytes'));
  const ifRange = ranges ? strongValidator(etag, lastModified, headers.get('date')) : undefined;
  return {
    ...(ifRange !== undefined ? { ifRange } : {}),
    ...(length !== undefined ? { length } : {}),
    ...(etag !== undefined ? { etag } : {}),
    ...(lastModified !== undefined ? { lastModified } : {}),
  };
}

/**
 * The validator `If-Range` may carry. RFC 9110 §13.1.5: a client must not send a weak entity tag
 * (`W/"…"`), nor a date unless it has no entity tag and the date is a strong validator, which
 * §8.8.2.2 allows for a Last-Modified at least one second before the response's Date.
 */
function strongValidator(etag: string | undefined, lastModified: string | undefined, date: string | null): string | undefined {
  if (etag !== undefined) return etag.startsWith('W/') ? undefined : etag;
  if (lastModified === undefined || date === null) return undefined;
  const modified = Date.parse(lastModified);
  const sent = Date.parse(date);
  return Number.isFinite(modified) && Number.isFinite(sent) && sent - modified >= 1000 ? lastModified : undefined;
}

/**
 * Checks a 206 answer to `Range: bytes=<offset>-`: its Content-Range (RFC 9110 §14.4) must start
 * exactly at `offset`, run to the file's last byte, and give the file the length first declared,
 * and its validators must be the first response's.
 * @returns the file's length, or why the answer is not the continuation
 */
export function checkPartial(headers: ResponseHeaders, offset: number, plan: ResumePlan): { readonly length: number } | { readonly problem: string } {
  const range = contentRange(headers);
  if (!range) {
    const text = headers.get('content-range');
    return { problem: `a 206 whose Content-Range ${text === null ? 'is missing' : `"${text}" is not one byte range of a file of known length`}` };
  }
  const { start, end, length } = range;
  if (start !== offset) return { problem: `a 206 whose Content-Range starts at byte ${start}, not at byte ${offset} asked for` };
  if (plan.length !== undefined && length !== plan.length) return { problem: `a 206 for a file of ${length} bytes, where the first response declared ${plan.length}` };
  if (end !== length - 1) return { problem: `a 206 whose Content-Range ends at byte ${end}, not at the file's last byte ${length - 1}` };
  if (isContentCoded(headers)) return { problem: `a 206 with Content-Encoding ${headers.get('content-encoding')}, where the first response had none` };
  const declared = byteCount(headers.get('content-length'));
  if (declared !== undefined && declared !== length - offset) return { problem: `a 206 of ${declared} bytes for the ${length - offset} bytes its Content-Range names` };
  return changedValidators(headers, plan) ?? { length };
}

/** The one byte range of a file of known length a 206's Content-Range names (RFC 9110 §14.4), if it names one. */
function contentRange(headers: ResponseHeaders): { readonly start: number; readonly end: number; readonly length: number } | undefined {
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(headers.get('content-range')?.trim() ?? '');
  return range ? { start: Number(range[1]), end: Number(range[2]), length: Number(range[3]) } : undefined;
}

/** Whether a response that starts the body again is another version of it, by its validators and length. */
export function checkRestart(headers: ResponseHeaders, plan: ResumePlan): { readonly problem: string } | undefined {
  const changed = changedValidators(headers, plan);
  if (changed) return changed;
  const length = isContentCoded(headers) ? undefined : byteCount(headers.get('content-length'));
  if (plan.length !== undefined && length !== undefined && length !== plan.length) return { problem: `a new response of ${length} bytes, where the first declared ${plan.length}` };
  return undefined;
}

function changedValidators(headers: ResponseHeaders, plan: ResumePlan): { readonly problem: string } | undefined {
  const etag = headers.get('etag');
  if (plan.etag !== undefined && etag !== null && etag !== plan.etag) return { problem: `ETag ${etag}, where the first response had ${plan.etag}` };
  const modified = headers.get('last-modified');
  if (plan.lastModified !== undefined && modified !== null && modified !== plan.lastModified) return { problem: `Last-Modified ${modified}, where the first response had ${plan.lastModified}` };
  return undefined;
}

function isContentCoded(headers: ResponseHeaders): boolean {
  return (headers.get('content-encoding') ?? '').split(',').some((coding) => coding.trim() !== '' && coding.trim().toLowerCase() !== 'identity');
}

function byteCount(text: string | null): number | undefined {
  return text !== null && /^\d+$/.test(text.trim()) ? Number(text) : undefined;
}

/** What {@link resumableBody} needs besides the first response. */
export interface ResumableBodyOptions {
  /**
   * Sends the request again with these headers added, under the same redirect and credential rules
   * as the first; resolves with the response, its body unread; rejects on a network failure.
   */
  readonly reopen: (headers: Readonly<Record<string, string>>) => Promise<TransportResponse>;
  /** `retry.max_attempts` bounds the requests for one body, the first included; the backoff paces them. */
  readonly retry: Pick<RetryConfig, 'max_attempts' | 'base_delay_ms' | 'max_delay_ms'>;
  readonly clock: Clock;
  readonly random: () => number;
  readonly signal?: AbortSignal;
  /** The request as errors quote it (label, method, redacted URL). */
  readonly describe: () => string;
  /** Called before each request that continues the body. */
  readonly onRetry?: () => void;
  /**
   * The `If-Range` the first request carried. A host answers such a request with 206 only while
   * that validator still names the file (RFC 9110 §13.1.5), so a 206 that repeats no validator of
   * its own is continued on this one.
   */
  readonly askedIfRange?: string;
}

/** Where the body stands: what the reader got, and what a restarted body still has to match. */
interface Progress {
  /** Where in the file the first response's body starts. */
  readonly from: number;
  position: number;
  readonly fed: BytesRead;
  /** Bytes of a restarted body still to compare with the ones the reader got. */
  skip: number;
  check?: Hash;
  expected?: Buffer;
}

/**
 * A body's bytes read so far, as a restarted body must repeat them: their SHA-256. The first
 * {@link KEPT_BYTES} are kept as the chunks the reader got and hashed only when a restart needs
 * them or the body outgrows them. Hashing every page as it arrives cost ~0.6 µs of the main
 * thread's CPU per KB (docs/performance.md), and a JSON page is held whole by its reader anyway; no
 * reader writes into the chunks it is given.
 */
class BytesRead {
  private kept: Uint8Array[] | undefined = [];
  private keptBytes = 0;
  private hash: Hash | undefined;

  add(chunk: Uint8Array): void {
    if (this.hash) {
      this.hash.update(chunk);
      return;
    }
    this.kept!.push(chunk);
    this.keptBytes += chunk.length;
    if (this.keptBytes > KEPT_BYTES) {
      this.hash = this.hashOfKept();
      this.kept = undefined;
    }
  }

  digest(): Buffer {
    return (this.hash ? this.hash.copy() : this.hashOfKept()).digest();
  }

  private hashOfKept(): Hash {
    const hash = createHash('sha256');
    for (const chunk of this.kept!) hash.update(chunk);
    return hash;
  }
}

/** Bytes of a body kept unhashed: the largest page its reader holds whole (`EARLY_LANDING_BYTES`, readPageBody.ts). */
const KEPT_BYTES = 4 * 1024 * 1024;

/**
 * The body of `first`, continued across broken connections as the server allows.
 * @throws BodyResumeError when the body cannot be continued exactly (the file changed, a lying 206,
 *   more bytes than declared), HttpNetworkError when the connection keeps breaking past
 *   `retry.max_attempts`, AbortedError, or what `reopen` threw that is an ApilakeError (a redirect refused)
 */
export async function* resumableBody(first: TransportResponse, options: ResumableBodyOptions): AsyncGenerator<Uint8Array> {
  // A first answer that is already a file's rest (the request asked for a range) counts its bytes in the file, from where that rest starts.
  const rest = first.status === 206 ? contentRange(first.headers) : undefined;
  const plan = rest ? restPlan(first.headers, rest.length, options.askedIfRange) : resumePlan(first.headers);
  let length = plan.length;
  const at: Progress = { from: rest?.start ?? 0, position: rest?.start ?? 0, fed: new BytesRead(), skip: 0 };
  let body = first.body;
  let attempt = 1;
  for (;;) {
    try {
      for await (const chunk of body) {
        const rest = at.skip > 0 ? compareSkipped(chunk, at, options) : chunk;
        if (rest.length === 0) continue;
        if (length !== undefined && at.position + rest.length > length) {
          throw new BodyResumeError(`the body runs past the ${length} bytes its first response declared`, options.describe(), { offset: at.position });
        }
        at.fed.add(rest);
        at.position += rest.length;
        yield rest;
      }
      if (at.skip > 0) throw changed(at, `the new response ends ${at.skip} bytes before the ${at.position} already read`, options);
      // A body sent in chunks ends cleanly wherever the server stops: short of its length, it broke.
      if (length !== undefined && at.position < length) throw new Error(`the body ended at byte ${at.position} of ${length}`);
      return;
    } catch (error) {
      if (error instanceof ApilakeError || options.signal?.aborted) throw error;
      const next = await continuation(error, at, plan, attempt, options);
      attempt = next.attempt;
      body = next.response.body;
      length ??= next.length;
    }
  }
}

/** How to continue a body that is a file's rest (a 206 to a range request). */
function restPlan(headers: ResponseHeaders, length: number, asked: string | undefined): ResumePlan {
  const plan = { ...resumePlan(headers, true), length };
  if (plan.ifRange !== undefined || asked === undefined || isContentCoded(headers)) return plan;
  return { ...validatorFields(asked), ...plan, ifRange: asked };
}

/** A strong `If-Range` validator as the validator it is: an entity tag (quoted) or a Last-Modified date (RFC 9110 §13.1.5). */
export function validatorFields(validator: string): Pick<ResumePlan, 'etag' | 'lastModified'> {
  return validator.startsWith('"') ? { etag: validator } : { lastModified: validator };
}

/** The part of a restarted body's chunk past the bytes already read, once those proved the same. */
function compareSkipped(chunk: Uint8Array, at: Progress, options: ResumableBodyOptions): Uint8Array {
  const head = chunk.subarray(0, at.skip);
  at.check!.update(head);
  at.skip -= head.length;
  if (at.skip > 0) return chunk.subarray(chunk.length);
  if (!at.check!.digest().equals(at.expected!)) throw changed(at, `its first ${at.position} bytes differ from the ones already read`, options);
  return chunk.subarray(head.length);
}

function changed(at: Progress, why: string, options: ResumableBodyOptions): BodyResumeError {
  return new BodyResumeError(
    `the body changed while it was read again after a broken connection at byte ${at.position}: ${why}; the attempt fails, and the next one reads it anew`,
    options.describe(),
    {
      offset: at.position,
    },
  );
}

/** Asks again, within the retry policy, for a response that continues the body at `at.position`. */
async function continuation(
  broke: unknown,
  at: Progress,
  plan: ResumePlan,
  attempt: number,
  options: ResumableBodyOptions,
): Promise<{ response: TransportResponse; attempt: number; length?: number }> {
  let failure = broke;
  let asked: ResponseHeaders | undefined;
  for (;;) {
    const decision = decideRetry({ attempt, retryable: true, ...(asked ? { headers: asked } : {}), nowMs: options.clock.now(), random: options.random(), policy: options.retry });
    if (!decision.retry) {
      throw new HttpNetworkError(`${networkReason(failure)}, at byte ${at.position} of the body`, options.describe(), { attempts: attempt, cause: failure });
    }
    try {
      await options.clock.sleep(decision.delayMs, options.signal);
    } catch (error) {
      throw new AbortedError(String(options.signal?.reason ?? 'aborted'), { cause: error });
    }
    attempt++;
    options.onRetry?.();
    const ranged = plan.ifRange !== undefined && at.position > 0;
    let response: TransportResponse;
    try {
      // identity: the offset counts bytes as sent, so the rest must come without a content coding too.
      response = await options.reopen(ranged ? { range: `bytes=${at.position}-`, 'if-range': plan.ifRange, 'accept-encoding': 'identity' } : {});
    } catch (error) {
      if (error instanceof ApilakeError || options.signal?.aborted) throw error;
      failure = error;
      continue;
    }
    const refuse = (problem: string) => {
      response.discard();
      return new BodyResumeError(`resuming the body at byte ${at.position}, the server answered ${problem}`, options.describe(), { offset: at.position });
    };
    if (response.status === 206 && ranged) {
      const partial = checkPartial(response.headers, at.position, plan);
      if ('problem' in partial) throw refuse(partial.problem);
      at.skip = 0;
      return { response, attempt, length: partial.length };
    }
    if (response.status === 200 && at.from > 0) throw refuse(`HTTP 200 with the whole file, where the rest of it from byte ${at.from} was read`);
    if (response.status === 200) {
      // No range (or If-Range found the file changed): the whole body again, its first bytes skipped once proved the same.
      const restart = checkRestart(response.headers, plan);
      if (restart) throw refuse(restart.problem);
      at.skip = at.position;
      at.check = createHash('sha256');
      at.expected = at.fed.digest();
      return { response, attempt };
    }
    if (!isRetryableStatus(response.status, response.headers)) throw refuse(`HTTP ${response.status}`);
    response.discard();
    failure = new Error(`HTTP ${response.status}`);
    asked = response.headers;
  }
}
