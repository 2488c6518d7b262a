/**
 * The one way apilake talks to an API: rate limited, concurrency capped, retried with backoff,
 * guarded by a circuit breaker, with auth applied and credentials kept out of every message.
 */

import { systemClock, type Clock } from '../clock.js';
import type { RedirectConfig, RetryConfig } from '../config/sourceSchema.js';
import { AbortedError, ApilakeError, HttpNetworkError, HttpStatusError, InvalidJsonError, RecordsPathError, RedirectError, RetryBudgetError, SecretError } from '../errors.js';
import type { Authenticator } from './auth/Authenticator.js';
import { CircuitBreaker } from './CircuitBreaker.js';
import { ConcurrencyLimiter } from './ConcurrencyLimiter.js';
import { headerValueProblem } from './headerValue.js';
import { parseJson, type ParsedJson } from '../records/preciseJson.js';
import { describeSecret, type Redactor } from './redact.js';
import { decideRedirect, type RedirectDecision } from './redirectPolicy.js';
import { decideRetry, isRetryableStatus, isThrottled, serverRequestedDelayMs } from './retryPolicy.js';
import { TokenBucket } from './TokenBucket.js';
import { RequestHeaders } from './RequestHeaders.js';
import { readPageBody, type EarlyLanding, type LandingProgress, type PageBody, type PageReading } from './readPageBody.js';
import { JsonNestingError, JsonSyntaxError, PageTooLargeError, ResponseEncodingError } from '../records/bodyErrors.js';
import { fetchTransport, type ResponseHeaders, type Transport, type TransportResponse } from './Transport.js';
import { nodeTransport } from './nodeTransport.js';

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
  readonly headers: ResponseHeaders;
  readonly body: unknown;
  /** The body holds numbers beyond float precision: serialise its records with `stringifyJson(…, true)`. */
  readonly precise: boolean;
  /** The URL requested (with credentials), for resolving relative next links. */
  readonly url: URL;
  /** Bytes of the body as received. */
  readonly bytes: number;
}

/** A page of records: the response, its records as the API's bytes, and its body for pagination expressions. */
export interface PageResponse extends Omit<JsonResponse, 'precise'>, PageBody {}

/** Options of {@link HttpClient.requestPage}. */
export interface PageRequestOptions {
  readonly signal?: AbortSignal;
  /** Also counts into these (the window's) counters. */
  readonly stats?: HttpStats;
  /** Lands the page's records while its body arrives, once its turn has come. @default the page lands after its body ends */
  readonly landing?: EarlyLanding;
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
  /** Sends requests through this `fetch` instead of the default transport (tests script or stall responses with it). */
  readonly fetch?: typeof fetch;
  /** @default nodeTransport() (node:http, keep-alive), or a fetch transport when `fetch` is given */
  readonly transport?: Transport;
  /** Which redirects to follow. @default same origin only, at most 5 */
  readonly redirects?: RedirectConfig;
}

/** A request ready to send, and what its auth added (removed again before it leaves its origin). */
interface PreparedRequest {
  readonly url: URL;
  readonly headers: RequestHeaders;
  readonly body: string | undefined;
  /** Headers the authenticator set. */
  readonly authHeaders: readonly string[];
  /** Query parameters the authenticator set. */
  readonly authParams: readonly string[];
}

/** One hop of a redirect chain. */
interface Hop {
  readonly method: string;
  readonly url: URL;
  readonly headers: RequestHeaders;
  readonly body: string | undefined;
}

type SendOutcome =
  /** `hops`: responses received, redirects included. */
  | { kind: 'response'; status: number; headers: ResponseHeaders; text: string; url: URL; hops: number; bytes: number; page?: PageBody }
  | { kind: 'network'; reason: string; error: unknown }
  /** Not worth retrying: a redirect the source may not follow, or a body that is not a valid page. */
  | { kind: 'refused'; error: ApilakeError; hops: number };

const DEFAULT_REDIRECTS: RedirectConfig = { max: 5, allowed_origins: [] };
/** Headers that carry credentials whatever the auth type; never sent to another origin. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'] as const;
/** Headers that describe a body; dropped with it when a redirect turns the request into a GET. */
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'] as const;

/** Bytes of an error body quoted in messages. */
const SNIPPET_CHARS = 200;
/** Characters of an error body masked before the snippet is cut: far more than any encoded secret spans. */
const SNIPPET_SCAN_CHARS = 64 * 1024;

/** A rate-limited, retrying JSON client for one source. Share one per source across windows. */
export class HttpClient {
  /** Cumulative counters since construction. */
  readonly stats: HttpStats = { requests: 0, retries: 0, throttled: 0, bytes: 0 };
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly transport: Transport;
  private readonly bucket: TokenBucket;
  private readonly slots: ConcurrencyLimiter;
  private readonly breaker: CircuitBreaker;
  private authenticator: Authenticator | undefined;
  private readonly redirects: RedirectConfig;
  private readonly allowedOrigins: ReadonlySet<string>;

  constructor(private readonly options: HttpClientOptions) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.transport = options.transport ?? (options.fetch ? fetchTransport(options.fetch) : nodeTransport());
    this.bucket = new TokenBucket({ ratePerSecond: options.requestsPerSecond ?? Number.POSITIVE_INFINITY, capacity: options.burst, clock: this.clock });
    this.slots = new ConcurrencyLimiter(options.concurrency ?? 1);
    this.breaker = new CircuitBreaker({
      threshold: options.retry.circuit_breaker_failures,
      cooldownMs: options.retry.circuit_breaker_cooldown_ms,
      clock: this.clock,
    });
    this.authenticator = options.authenticator;
    this.redirects = options.redirects ?? DEFAULT_REDIRECTS;
    this.allowedOrigins = new Set(this.redirects.allowed_origins);
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
   * Redirects are followed within the request's origin, and to `redirects.allowed_origins`
   * without credentials; any other redirect fails at once with a {@link RedirectError}.
   * @throws HttpStatusError, HttpNetworkError, InvalidJsonError, RetryBudgetError, CircuitOpenError, AbortedError,
   *   RedirectError, SecretError (a credential that cannot travel in a header)
   */
  async requestJson(request: HttpRequest, options: { signal?: AbortSignal; stats?: HttpStats } = {}): Promise<JsonResponse> {
    return (await this.exchange(request, undefined, options)) as JsonResponse;
  }

  /**
   * Sends a request for a page of records, like {@link requestJson}, and reads the body as it
   * arrives into records kept as the API's bytes (`reading`: records path, encoding, size cap,
   * nesting limit). A body that is not a valid page fails at once, never retried.
   * @throws what requestJson throws, and PageTooLargeError, ResponseEncodingError, JsonSyntaxError,
   *   JsonNestingError, RecordsPathError
   */
  async requestPage(request: HttpRequest, reading: PageReading, options: PageRequestOptions = {}): Promise<PageResponse> {
    return (await this.exchange(request, reading, options)) as PageResponse;
  }

  private async exchange(request: HttpRequest, reading: PageReading | undefined, options: PageRequestOptions): Promise<JsonResponse | PageResponse> {
    const { signal } = options;
    const count = (field: keyof HttpStats, by = 1) => {
      this.stats[field] += by;
      if (options.stats) options.stats[field] += by;
    };
    let refreshedAuth = false;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new AbortedError(String(signal.reason ?? 'aborted'));
      this.breaker.check(() => this.describe(request));

      // Auth is resolved before taking a slot: an OAuth2 token request needs a slot of its own.
      const prepared = request.authenticate === false || !this.authenticator ? this.unauthenticated(request) : await this.authenticated(request, this.authenticator);
      const outcome = await this.slots.run(async () => {
        await this.bucket.take(signal);
        return this.send(request, prepared, signal, reading, options.landing);
      });

      if (outcome.kind === 'refused') {
        count('requests', outcome.hops);
        throw outcome.error; // the server's choice, not a transient failure: retrying would redirect again
      }
      if (outcome.kind === 'response') {
        const { status, headers, text, url, bytes } = outcome;
        count('requests', outcome.hops);
        count('bytes', bytes);
        if (isThrottled(status, headers)) count('throttled');
        if (status >= 200 && status < 300) {
          this.breaker.recordSuccess();
          this.respectQuota(headers);
          if (outcome.page) return { status, headers, url, bytes, ...outcome.page };
          const parsed = this.parseBody(text, request, this.describe(request));
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
        const described = this.describe(request);
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
        const error = new HttpNetworkError(outcome.reason, this.describe(request), { attempts: attempt, cause: outcome.error });
        this.breaker.recordFailure(error);
        const decision = decideRetry({ attempt, retryable: true, nowMs: this.clock.now(), random: this.random(), policy: this.options.retry });
        if (!decision.retry) throw error;
        await this.wait(decision.delayMs, signal);
      }
      count('retries');
    }
  }

  /** The request as sent without auth. */
  private unauthenticated(request: HttpRequest): PreparedRequest {
    const url = new URL(request.url);
    // Set in order, names case-insensitive: the source's headers replace the default, the request's replace both.
    const headers = new RequestHeaders({ accept: 'application/json', ...this.options.headers, ...request.headers });
    let body: string | undefined;
    if (request.form) body = request.form.toString();
    else if (request.body !== undefined) {
      body = JSON.stringify(request.body);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    return { url, headers, body, authHeaders: [], authParams: [] };
  }

  /** The request as sent with the source's auth applied, and what the auth added. */
  private async authenticated(request: HttpRequest, authenticator: Authenticator): Promise<PreparedRequest> {
    const { url, headers, body } = this.unauthenticated(request);
    const headersBefore = new Map(headers);
    const paramsBefore = new URLSearchParams(url.search);
    try {
      await authenticator.apply(url, headers);
    } catch (error) {
      // RequestHeaders refuses, as Headers would, a value that cannot travel in a header.
      if (error instanceof TypeError) throw this.unusableCredential(error);
      throw error;
    }
    const authHeaders = [...headers.keys()].filter((name) => headersBefore.get(name) !== headers.get(name));
    const authParams = [...new Set(url.searchParams.keys())].filter((name) => paramsBefore.getAll(name).join('\n') !== url.searchParams.getAll(name).join('\n'));
    for (const name of authHeaders) {
      // Control characters pass Headers (and RequestHeaders) but fail in node:http or fetch, as a network error that would be retried.
      if (headerValueProblem(headers.get(name)!) !== undefined) throw this.unusableCredential(undefined, headers.get(name)!);
    }
    return { url, headers, body, authHeaders, authParams };
  }

  /** Names the secret key that cannot travel in a header, and why, never its value. */
  private unusableCredential(error: TypeError | undefined, headerValue?: string): ApilakeError {
    const { redactor } = this.options;
    const hit = redactor.findSecret((value) => (headerValue === undefined || headerValue.includes(value) ? headerValueProblem(value) : undefined));
    if (hit) {
      return new SecretError(`${describeSecret(hit.origin)} cannot be sent in an HTTP header: its ${hit.found}; correct the stored value`, {
        context: hit.origin ? { ...hit.origin } : {},
      });
    }
    // Not a registered secret's fault: say what failed, with any credential in the message masked.
    return new SecretError(`applying the source's auth failed: ${redactor.text(error?.message ?? 'an auth header is not a valid header value')}`, { cause: error });
  }

  /** Sends the request, following the redirects {@link decideRedirect} allows; one timeout covers the whole chain and the body. */
  private async send(request: HttpRequest, prepared: PreparedRequest, signal: AbortSignal | undefined, reading?: PageReading, landing?: EarlyLanding): Promise<SendOutcome> {
    const deadline = new Deadline(this.options.timeoutMs, signal);
    try {
      return await this.sendWithin(deadline, request, prepared, reading, landing);
    } finally {
      deadline.clear();
    }
  }

  private async sendWithin(deadline: Deadline, request: HttpRequest, prepared: PreparedRequest, reading?: PageReading, landing?: EarlyLanding): Promise<SendOutcome> {
    const failed = (error: unknown): SendOutcome => ({
      kind: 'network',
      reason: deadline.timedOut ? `timed out after ${this.options.timeoutMs} ms` : networkReason(error),
      error,
    });
    const home = prepared.url.origin;
    let hop: Hop = { method: request.method, url: prepared.url, headers: prepared.headers, body: prepared.body };
    let leftHome = false;
    for (let followed = 0; ; followed++) {
      let response: TransportResponse;
      try {
        // Redirects are ours to follow: a transport would carry custom credential headers (X-API-Key) to any origin.
        response = await this.transport({ method: hop.method, url: hop.url, headers: hop.headers, body: hop.body, signal: deadline.signal });
      } catch (error) {
        return failed(error);
      }
      const decision = decideRedirect({
        status: response.status,
        location: response.headers.get('location'),
        from: { method: hop.method, url: hop.url, hasBody: hop.body !== undefined },
        home,
        leftHome,
        allowedOrigins: this.allowedOrigins,
        followed,
        max: this.redirects.max,
      });
      if (decision.kind === 'none') {
        const base = { kind: 'response' as const, status: response.status, headers: response.headers, url: prepared.url, hops: followed + 1 };
        const progress: LandingProgress = { landedRecords: 0 };
        try {
          // The timeout covers the body too: a body that trickles past it is a timeout, not a hang.
          if (reading && response.status >= 200 && response.status < 300) {
            // The request is described only when an error quotes it: redacting a URL on every page costs the next request's start.
            const describe = () => this.describe(request);
            const origin = { page: pageNumber(request.label), get request() { return describe(); }, redact: (t: string) => this.options.redactor.text(t) };
            const page = await readPageBody(response, reading, origin, landing, progress);
            return { ...base, text: '', bytes: page.stats.bytes, page };
          }
          const text = await response.text();
          return { ...base, text, bytes: Buffer.byteLength(text) };
        } catch (error) {
          if (isBodyError(error)) return { kind: 'refused', error, hops: followed + 1 };
          if (progress.landedRecords > 0) {
            // Records of this page are already in the window's parts: a retry would land them twice.
            // The window fails instead; its parts are discarded and a later run lands the page whole.
            const reason = failed(error) as Extract<SendOutcome, { kind: 'network' }>;
            const partial = new HttpNetworkError(
              `${reason.reason}, after ${progress.landedRecords} records of this page had landed; a page cannot be resumed, so the window fails (its retry lands the page whole)`,
              this.describe(request),
              { cause: error },
            );
            return { kind: 'refused', error: partial, hops: followed + 1 };
          }
          return failed(error);
        }
      }
      response.discard();
      if (decision.kind === 'refuse') return { kind: 'refused', error: this.refusedRedirect(decision, response.status, hop, request), hops: followed + 1 };
      const next = this.nextHop(decision, hop, prepared, request);
      if (next instanceof ApilakeError) return { kind: 'refused', error: next, hops: followed + 1 };
      leftHome ||= decision.url.origin !== home;
      hop = next;
    }
  }

  /** The request a followed redirect makes; credentials go only to the request's own origin. */
  private nextHop(decision: Extract<RedirectDecision, { kind: 'follow' }>, hop: Hop, prepared: PreparedRequest, request: HttpRequest): Hop | ApilakeError {
    const url = new URL(decision.url);
    const headers = new RequestHeaders(hop.headers);
    if (!decision.keepBody) for (const name of BODY_HEADERS) headers.delete(name);
    const body = decision.keepBody ? hop.body : undefined;
    if (decision.credentials) {
      // Same origin: the credentials of the first hop go along, a query api_key included. They are
      // copied rather than asked of the authenticator again, which could need a token request,
      // and so a concurrency slot, while this request holds one.
      for (const name of prepared.authParams) {
        url.searchParams.delete(name);
        for (const value of prepared.url.searchParams.getAll(name)) url.searchParams.append(name, value);
      }
      return { method: decision.method, url, headers, body };
    }
    for (const name of [...prepared.authHeaders, ...CREDENTIAL_HEADERS]) headers.delete(name);
    for (const name of prepared.authParams) url.searchParams.delete(name);
    // Last line of defence: a Location or a 307 body that echoes a credential in any encoding stops here.
    const { redactor } = this.options;
    const carrier = redactor.contains(url.href) ? 'its URL' : [...headers.values()].some((v) => redactor.contains(v)) ? 'a header' : body !== undefined && redactor.contains(body) ? 'its body' : undefined;
    if (carrier) {
      return new RedirectError(
        `HTTP redirect from ${redactor.text(hop.url.origin)} to allowed origin ${redactor.text(url.origin)} refused: the redirected request would carry a credential of the source in ${carrier}`,
        this.describe(request),
      );
    }
    return { method: decision.method, url, headers, body };
  }

  private refusedRedirect(decision: Extract<RedirectDecision, { kind: 'refuse' }>, status: number, hop: Hop, request: HttpRequest): RedirectError {
    const { redactor } = this.options;
    const from = redactor.text(hop.url.origin);
    const to = decision.target ? redactor.text(decision.target.origin) : undefined;
    const message =
      decision.reason === 'foreign_origin'
        ? `HTTP ${status} redirect from ${from} to another origin ${to} refused: the source's credentials and records stay with its own origin (list "${to}" in redirects.allowed_origins to follow it, without credentials)`
        : decision.reason === 'too_many'
          ? `more than ${this.redirects.max} redirects in a row (redirects.max); the next one pointed to ${redactor.url(decision.target!)}`
          : `HTTP ${status} redirect from ${from} with a Location that is not an http(s) URL`;
    return new RedirectError(message, this.describe(request), { context: { status, reason: decision.reason } });
  }

  private parseBody(text: string, request: HttpRequest, described: string): ParsedJson {
    try {
      return parseJson(text);
    } catch (error) {
      const page = Number(/page (\d+)/.exec(request.label ?? '')?.[1] ?? 0);
      throw new InvalidJsonError(page, this.snippet(text) || '(empty body)', described, { cause: error });
    }
  }

  private respectQuota(headers: ResponseHeaders): void {
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
    // Mask before cutting: a secret straddling the cut would otherwise show its first characters.
    const flat = this.options.redactor.text(text.slice(0, SNIPPET_SCAN_CHARS)).replace(/\s+/g, ' ').trim();
    return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}…` : flat;
  }
}

/**
 * One timeout for a request's whole redirect chain and body, and the run's abort, as one signal.
 * A timer and a listener, where AbortSignal.timeout + AbortSignal.any cost several µs per request
 * and keep their signals alive until the timer fires.
 */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  timedOut = false;

  constructor(
    timeoutMs: number,
    private readonly outer: AbortSignal | undefined,
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    if (outer) {
      if (outer.aborted) this.controller.abort(outer.reason);
      else outer.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  clear(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onAbort);
  }

  private readonly onAbort = () => this.controller.abort(this.outer!.reason);
}

/** A short reason for a failed request: the system error code when there is one. */
function networkReason(error: unknown): string {
  const own = error as { code?: unknown; message?: string; errors?: { code?: string }[] };
  const ownCode = typeof own?.code === 'string' ? own.code : own?.errors?.find((e) => e.code)?.code;
  if (ownCode && /^E[A-Z]+$/.test(ownCode)) return `${ownCode}${own.message && own.message !== ownCode ? ` (${own.message})` : ''}`;
  const cause = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } })?.cause;
  const code = cause?.code ?? cause?.errors?.find((e) => e.code)?.code;
  if (code) return `${code}${cause?.message && cause.message !== code ? ` (${cause.message})` : ''}`;
  if (cause?.message) return `${(error as Error).message}: ${cause.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** A body that is not a valid page: the API's answer, which a retry would only repeat. */
function isBodyError(error: unknown): error is ApilakeError {
  return error instanceof ResponseEncodingError || error instanceof JsonSyntaxError || error instanceof JsonNestingError || error instanceof PageTooLargeError || error instanceof RecordsPathError;
}

/** `page 3` → 3 (1 when the label names no page). */
function pageNumber(label: string | undefined): number {
  return Number(/page (\d+)/.exec(label ?? '')?.[1] ?? 1);
}
