/**
 * The one way apilake talks to an API: rate limited, concurrency capped, retried with backoff,
 * guarded by a circuit breaker, with auth applied and credentials kept out of every message.
 */

import { systemClock, type Clock } from '../clock.js';
import type { RetryConfig } from '../config/sourceSchema.js';
import { AbortedError, HttpNetworkError, HttpStatusError, InvalidJsonError, RetryBudgetError } from '../errors.js';
import type { Authenticator } from './Authenticator.js';
import { CircuitBreaker } from './CircuitBreaker.js';
import { ConcurrencyLimiter } from './ConcurrencyLimiter.js';
import { parseJson, type ParsedJson } from '../records/preciseJson.js';
import type { Redactor } from './redact.js';
import { decideRetry, isRetryableStatus, isThrottled, serverRequestedDelayMs } from './retryPolicy.js';
import { TokenBucket } from './TokenBucket.js';

/** One request to send. */
export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON body (POST). */
  readonly body?: unknown;
  /** Form body (token requests). */
  readonly form?: URLSearchParams;
  /** Apply the source's auth. @default true */
  readonly authenticate?: boolean;
  /** Names the request in errors, e.g. `page 3`. */
  readonly label?: string;
}

/** A successful response with its parsed JSON body. */
export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  /** The body holds numbers beyond float precision: serialise its records with `stringifyJson(…, true)`. */
  readonly precise: boolean;
  /** The URL requested (with credentials), for resolving relative next links. */
  readonly url: URL;
  /** Bytes of the body as received. */
  readonly bytes: number;
}

/** Counters of what the client did; mutated in place so a run can read them at any time. */
export interface HttpStats {
  requests: number;
  retries: number;
  throttled: number;
  bytes: number;
}

/** What an {@link HttpClient} needs. */
export interface HttpClientOptions {
  readonly retry: RetryConfig;
  readonly timeoutMs: number;
  readonly redactor: Redactor;
  /** Headers sent on every request (the source's `headers`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** @default no auth */
  readonly authenticator?: Authenticator;
  /** @default unlimited */
  readonly requestsPerSecond?: number;
  readonly burst?: number;
  /** @default 1 */
  readonly concurrency?: number;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default globalThis.fetch (undici, keep-alive) */
  readonly fetch?: typeof fetch;
}

/** Bytes of an error body quoted in messages. */
const SNIPPET_CHARS = 200;

/** A rate-limited, retrying JSON client for one source. Share one per source across windows. */
export class HttpClient {
  /** Cumulative counters since construction. */
  readonly stats: HttpStats = { requests: 0, retries: 0, throttled: 0, bytes: 0 };
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly fetchFn: typeof fetch;
  private readonly bucket: TokenBucket;
  private readonly slots: ConcurrencyLimiter;
  private readonly breaker: CircuitBreaker;
  private authenticator: Authenticator | undefined;

  constructor(private readonly options: HttpClientOptions) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.bucket = new TokenBucket({ ratePerSecond: options.requestsPerSecond ?? Number.POSITIVE_INFINITY, capacity: options.burst, clock: this.clock });
    this.slots = new ConcurrencyLimiter(options.concurrency ?? 1);
    this.breaker = new CircuitBreaker({
      threshold: options.retry.circuit_breaker_failures,
      cooldownMs: options.retry.circuit_breaker_cooldown_ms,
      clock: this.clock,
    });
    this.authenticator = options.authenticator;
  }

  /** Sets the authenticator after construction (OAuth2 needs this client to fetch its token). */
  useAuthenticator(authenticator: Authenticator): void {
    this.authenticator = authenticator;
  }

  /** The redactor that masks this source's credentials. */
  get redactor(): Redactor {
    return this.options.redactor;
  }

  /**
   * Sends a request and parses the JSON body, retrying transient failures.
   * @throws HttpStatusError, HttpNetworkError, InvalidJsonError, RetryBudgetError, CircuitOpenError, AbortedError
   */
  async requestJson(request: HttpRequest, options: { signal?: AbortSignal; stats?: HttpStats } = {}): Promise<JsonResponse> {
    const { signal } = options;
    const count = (field: keyof HttpStats, by = 1) => {
      this.stats[field] += by;
      if (options.stats) options.stats[field] += by;
    };
    let refreshedAuth = false;
    for (let attempt = 1; ; attempt++) {
      const described = this.describe(request);
      if (signal?.aborted) throw new AbortedError(String(signal.reason ?? 'aborted'));
      this.breaker.check(described);

      // Auth is resolved before taking a slot: an OAuth2 token request needs a slot of its own.
      const prepared = await this.prepare(request);
      const outcome = await this.slots.run(async () => {
        await this.bucket.take(signal);
        return this.sendOnce(request.method, prepared, signal);
      });

      if (outcome.kind === 'response') {
        const { status, headers, text, url } = outcome;
        count('requests');
        const bytes = Buffer.byteLength(text);
        count('bytes', bytes);
        if (isThrottled(status, headers)) count('throttled');
        if (status >= 200 && status < 300) {
          this.breaker.recordSuccess();
          this.respectQuota(headers);
          const parsed = this.parseBody(text, request, described);
          return { status, headers, url, bytes, body: parsed.value, precise: parsed.precise };
        }
        if (status === 401 && !refreshedAuth && request.authenticate !== false && this.authenticator) {
          refreshedAuth = true;
          if (await this.authenticator.refresh()) {
            attempt--; // a refreshed token is a new first attempt, not a retry
            continue;
          }
        }
        const retryable = isRetryableStatus(status, headers);
        const error = new HttpStatusError(status, this.snippet(text), described, { attempts: attempt });
        if (retryable) this.breaker.recordFailure(error);
        const decision = decideRetry({ attempt, retryable, headers, nowMs: this.clock.now(), random: this.random(), policy: this.options.retry });
        if (!decision.retry) {
          if (decision.why === 'wait_too_long') {
            throw new RetryBudgetError(
              `HTTP ${status}: server asked to wait ${Math.ceil(decision.delayMs! / 1000)} s, more than retry.max_delay_ms (${this.options.retry.max_delay_ms} ms)`,
              described,
              { cause: error },
            );
          }
          throw error;
        }
        // Every request of the source waits out a server-requested pause, not only this one.
        if (decision.serverRequested) this.bucket.pauseUntil(this.clock.now() + decision.delayMs);
        await this.wait(decision.delayMs, signal);
      } else {
        if (signal?.aborted) throw new AbortedError(String(signal.reason ?? 'aborted'), { cause: outcome.error });
        const error = new HttpNetworkError(outcome.reason, described, { attempts: attempt, cause: outcome.error });
        this.breaker.recordFailure(error);
        const decision = decideRetry({ attempt, retryable: true, nowMs: this.clock.now(), random: this.random(), policy: this.options.retry });
        if (!decision.retry) throw error;
        await this.wait(decision.delayMs, signal);
      }
      count('retries');
    }
  }

  private async prepare(request: HttpRequest): Promise<{ url: URL; headers: Headers; body: string | undefined }> {
    const url = new URL(request.url);
    const headers = new Headers({ accept: 'application/json', ...this.options.headers, ...request.headers });
    let body: string | undefined;
    if (request.form) body = request.form.toString();
    else if (request.body !== undefined) {
      body = JSON.stringify(request.body);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    if (request.authenticate !== false && this.authenticator) await this.authenticator.apply(url, headers);
    return { url, headers, body };
  }

  private async sendOnce(
    method: HttpRequest['method'],
    { url, headers, body }: { url: URL; headers: Headers; body: string | undefined },
    signal: AbortSignal | undefined,
  ): Promise<{ kind: 'response'; status: number; headers: Headers; text: string; url: URL } | { kind: 'network'; reason: string; error: unknown }> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const response = await this.fetchFn(url, { method, headers, body, signal: combined, redirect: 'follow' });
      // The timeout covers the body too: a body that trickles past it is a timeout, not a hang.
      const text = await response.text();
      return { kind: 'response', status: response.status, headers: response.headers, text, url };
    } catch (error) {
      return { kind: 'network', reason: timeout.aborted ? `timed out after ${this.options.timeoutMs} ms` : networkReason(error), error };
    }
  }

  private parseBody(text: string, request: HttpRequest, described: string): ParsedJson {
    try {
      return parseJson(text);
    } catch (error) {
      const page = Number(/page (\d+)/.exec(request.label ?? '')?.[1] ?? 0);
      throw new InvalidJsonError(page, this.snippet(text) || '(empty body)', described, { cause: error });
    }
  }

  private respectQuota(headers: Headers): void {
    const remaining = headers.get('ratelimit-remaining') ?? headers.get('x-ratelimit-remaining');
    if (remaining !== '0') return;
    const delay = serverRequestedDelayMs(headers, this.clock.now());
    if (delay !== undefined) this.bucket.pauseUntil(this.clock.now() + Math.min(delay, this.options.retry.max_delay_ms));
  }

  private async wait(ms: number, signal?: AbortSignal): Promise<void> {
    try {
      await this.clock.sleep(ms, signal);
    } catch (error) {
      throw new AbortedError(String(signal?.reason ?? 'aborted'), { cause: error });
    }
  }

  private describe(request: HttpRequest): string {
    const label = request.label ? `${request.label}, ` : '';
    return `${label}${request.method} ${this.options.redactor.url(request.url)}`;
  }

  private snippet(text: string): string {
    const flat = text.replace(/\s+/g, ' ').trim();
    const cut = flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}…` : flat;
    return this.options.redactor.text(cut);
  }
}

/** A short reason for a failed fetch: the system error code when there is one. */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } })?.cause;
  const code = cause?.code ?? cause?.errors?.find((e) => e.code)?.code;
  if (code) return `${code}${cause?.message && cause.message !== code ? ` (${cause.message})` : ''}`;
  if (cause?.message) return `${(error as Error).message}: ${cause.message}`;
  return error instanceof Error ? error.message : String(error);
}
