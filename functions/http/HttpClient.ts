/**
 * The one way apilake talks to an API: rate limited, concurrency capped, retried with backoff,
 * guarded by a circuit breaker, with auth applied and credentials kept out of every message.
 * It knows requests and responses, nothing of pages or records: the caller's reader consumes a
 * successful response's body and its errors say whether asking again could help.
 */

import { systemClock, type Clock } from '../clock.js';
import type { BudgetConfig } from '../config/responseRuleSchema.js';
import type { RedirectConfig, RetryConfig } from '../config/sourceSchema.js';
import { AbortedError, ApilakeError, HttpStatusError, ResponseRuleError, RetryableResponse, RetryBudgetError } from '../errors.js';
import type { Authenticator } from './auth/Authenticator.js';
import { CircuitBreaker } from './CircuitBreaker.js';
import { Deadline } from './Deadline.js';
import { followRedirects } from './followRedirects.js';
import type { BodyReader, HttpRequest, HttpResponse, HttpResult, HttpStats, RequestOptions } from './HttpRequest.js';
import { networkReason } from './networkReason.js';
import { nodeTransport } from './nodeTransport.js';
import { authenticate, prepareRequest, type PreparedRequest } from './prepareRequest.js';
import { readJson } from './readJson.js';
import { reopenRequest } from './reopenRequest.js';
import { resumableBody } from './resumableBody.js';
import type { Redactor } from './redact.js';
import { ApiBudgetPacer } from './ApiBudgetPacer.js';
import { judgeResponse, type Attempt } from './judgeResponse.js';
import { decideRetry } from './retryPolicy.js';
import { LocalRateBudget } from './LocalRateBudget.js';
import type { RateBudget } from './RateBudget.js';
import { fetchTransport, type Transport, type TransportResponse } from './Transport.js';

export type { BodyReader, HttpRequest, HttpResponse, HttpResult, HttpStats, RequestOptions } from './HttpRequest.js';

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
  /**
   * Where requests draw their rate and concurrency from, e.g. a budget shared by every invocation
   * of the source. @default a {@link LocalRateBudget} of `requestsPerSecond`, `burst` and `concurrency`
   */
  readonly rateBudget?: RateBudget;
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
  /** How to read the API's budget from a body (`rate_limit.budget`). @default budgets in headers only */
  readonly budget?: BudgetConfig;
}

const DEFAULT_REDIRECTS: RedirectConfig = { max: 5, allowed_origins: [] };
/** A rate-limited, retrying HTTP client for one source. Share one per source across windows. */
export class HttpClient {
  /** Cumulative counters since construction. */
  readonly stats: HttpStats = { requests: 0, retries: 0, throttled: 0, bytes: 0 };
  private readonly clockSource: Clock;
  private readonly random: () => number;
  private readonly transport: Transport;
  private readonly budget: RateBudget;
  private readonly apiBudget: ApiBudgetPacer;
  private readonly breaker: CircuitBreaker;
  private authenticator: Authenticator | undefined;
  private readonly redirects: RedirectConfig;
  private readonly allowedOrigins: ReadonlySet<string>;

  constructor(private readonly options: HttpClientOptions) {
    this.clockSource = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.transport = options.transport ?? (options.fetch ? fetchTransport(options.fetch) : nodeTransport());
    this.budget = options.rateBudget ?? new LocalRateBudget({ requestsPerSecond: options.requestsPerSecond, burst: options.burst, concurrency: options.concurrency, clock: this.clockSource });
    // The API's own budget, as its responses report it, paces requests on top of the source's rate budget.
    this.apiBudget = new ApiBudgetPacer({ clock: this.clockSource, maxDelayMs: options.retry.max_delay_ms, ...(options.budget ? { budget: options.budget } : {}) });
    this.breaker = new CircuitBreaker({ threshold: options.retry.circuit_breaker_failures, cooldownMs: options.retry.circuit_breaker_cooldown_ms, clock: this.clockSource });
    this.authenticator = options.authenticator;
    this.redirects = options.redirects ?? DEFAULT_REDIRECTS;
    this.allowedOrigins = new Set(this.redirects.allowed_origins);
  }

  /** Sets the authenticator after construction (OAuth2 needs this client to fetch its token). */
  useAuthenticator(authenticator: Authenticator): void {
    this.authenticator = authenticator;
  }

  /** The client's clock, for what is judged about its responses (a wait until an epoch time). */
  get clock(): Clock {
    return this.clockSource;
  }

  /**
   * The fields the current access token was issued with besides the credentials (`instance_url`…),
   * obtaining a token first if none is cached; none for auth types without a token endpoint.
   */
  async authValues(): Promise<Readonly<Record<string, string>>> {
    return (await this.authenticator?.values?.()) ?? {};
  }

  /** Lets the budget finish what it has in flight (a shared budget's releases); call when the client is done. */
  async close(): Promise<void> {
    await this.budget.close();
  }

  /** The redactor that masks this source's credentials. */
  get redactor(): Redactor {
    return this.options.redactor;
  }

  /**
   * Sends a request, retrying transient failures, and hands a successful response to `read`.
   * Redirects are followed within the request's origin, and to `redirects.allowed_origins`
   * without credentials; any other redirect fails at once with a RedirectError. One timeout
   * (`timeout_ms`) covers the redirect chain and the body, so a body that trickles is a timeout.
   * A GET's body that breaks mid-way continues where it stopped (resumableBody.ts).
   * @throws HttpStatusError, HttpNetworkError, RetryBudgetError, CircuitOpenError, AbortedError,
   *   RedirectError, SecretError (a credential that cannot travel in a header), BodyResumeError (a body
   *   that cannot be continued exactly), or what `read` threw
   */
  async request<T>(request: HttpRequest, options: RequestOptions<T>): Promise<HttpResult<T>> {
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
      const unauthenticated = prepareRequest(request, this.options.headers);
      const prepared = request.authenticate === false || !this.authenticator ? unauthenticated : await authenticate(unauthenticated, this.authenticator, this.options.redactor);
      const release = await this.stoppable(this.budget.acquire(signal), signal);
      let outcome: Attempt<T>;
      const leave = this.apiBudget.enter();
      try {
        await this.stoppable(this.apiBudget.take(signal), signal);
        outcome = await this.send(request, prepared, options.read, signal, count);
      } finally {
        leave();
        release();
      }
      count('requests', outcome.hops);
      if (outcome.kind === 'refused') throw outcome.error;
      if (outcome.kind === 'read') {
        this.breaker.recordSuccess();
        return { status: outcome.status, headers: outcome.headers, url: prepared.url, body: outcome.value };
      }
      if (outcome.kind === 'network' && signal?.aborted) throw new AbortedError(String(signal.reason ?? 'aborted'), { cause: outcome.error });
      const judged = judgeResponse(outcome, options, { described: this.describe(request), attempt, redactor: this.options.redactor, clock: this.clockSource, apiBudget: this.apiBudget });
      if ('ignored' in judged) {
        this.breaker.recordSuccess();
        return { status: judged.status, headers: judged.headers, url: prepared.url, body: judged.ignored };
      }
      const failure = judged;
      if (failure.throttled) count('throttled');
      if (failure.refreshAuth && !refreshedAuth && request.authenticate !== false && this.authenticator) {
        refreshedAuth = true;
        if (await this.authenticator.refresh()) {
          attempt--; // a refreshed token is a new first attempt, not a retry
          continue;
        }
      }
      if (failure.retryable) this.breaker.recordFailure(failure.error);
      const decision = decideRetry({
        attempt,
        retryable: failure.retryable,
        ...(failure.headers ? { headers: failure.headers } : {}),
        ...(failure.waitMs !== undefined ? { requestedMs: failure.waitMs } : {}),
        nowMs: this.clockSource.now(),
        random: this.random(),
        policy: this.options.retry,
      });
      if (!decision.retry) {
        if (decision.why !== 'wait_too_long') throw failure.error;
        const seconds = Math.ceil(decision.delayMs! / 1000);
        const what =
          failure.error instanceof ResponseRuleError ? `HTTP ${failure.error.status}, ${failure.error.rule}` : failure.error instanceof HttpStatusError ? `HTTP ${failure.error.status}` : 'response';
        throw new RetryBudgetError(`${what}: server asked to wait ${seconds} s, more than retry.max_delay_ms (${this.options.retry.max_delay_ms} ms)`, this.describe(request), {
          cause: failure.error,
        });
      }
      // Every request of the source waits out a server-requested pause, not only this one.
      if (decision.serverRequested) this.budget.pauseUntil(this.clockSource.now() + decision.delayMs);
      await this.wait(decision.delayMs, signal);
      count('retries');
    }
  }

  /** Sends a request and parses its JSON body with `JSON.parse` (token endpoints, tests). */
  async requestJson(request: HttpRequest, options: { signal?: AbortSignal; stats?: HttpStats } = {}): Promise<HttpResult<unknown>> {
    return this.request(request, { ...options, read: readJson });
  }

  /** One attempt: the redirect chain, then the body, all within one deadline. */
  private async send<T>(request: HttpRequest, prepared: PreparedRequest, read: BodyReader<T>, signal: AbortSignal | undefined, count: Counter): Promise<Attempt<T>> {
    const received = (bytes: number) => count('bytes', bytes);
    const deadline = new Deadline(this.options.timeoutMs, signal);
    const network = (error: unknown, hops: number): Attempt<T> => ({ kind: 'network', reason: deadline.timedOut ? `timed out after ${this.options.timeoutMs} ms` : networkReason(error), error, hops });
    try {
      const describe = () => this.describe(request);
      const chain = await followRedirects(prepared, {
        ...prepared,
        transport: this.transport,
        signal: deadline.signal,
        allowedOrigins: this.allowedOrigins,
        max: this.redirects.max,
        redactor: this.options.redactor,
        describe,
      });
      if (chain.kind === 'network') return network(chain.error, chain.hops);
      if (chain.kind === 'refused') return chain;
      const { response, hops } = chain;
      const { status, headers } = response;
      this.apiBudget.observeHeaders(headers);
      if (status < 200 || status >= 300) {
        try {
          const text = await response.text();
          received(Buffer.byteLength(text));
          // The error quotes the body: a signed URL's host may echo the signature in it.
          return { kind: 'status', status, headers, text: this.options.redactor.textAbout(chain.url, text), hops };
        } catch (error) {
          return network(error, hops);
        }
      }
      const redactor = this.options.redactor;
      const body = counted(response.body, received);
      // A 206 to a ranged request continues on the validator the request named (resumableBody.ts).
      const ifRange = prepared.headers.get('if-range');
      const reading: HttpResponse = {
        status,
        headers,
        // A GET is safe to send again (RFC 9110 §9.2.1): a body that breaks mid-way continues where it stopped.
        body:
          request.method === 'GET'
            ? resumableBody(
                { ...response, body },
                {
                  reopen: (extra) => this.reopen(request, prepared, extra, signal, count),
                  retry: this.options.retry,
                  clock: this.clockSource,
                  random: this.random,
                  ...(signal ? { signal } : {}),
                  describe,
                  onRetry: () => count('retries'),
                  ...(ifRange !== null ? { askedIfRange: ifRange } : {}),
                },
              )
            : body,
        text: async () => {
          const text = await response.text();
          received(Buffer.byteLength(text));
          return text;
        },
        discard: () => response.discard(),
        url: prepared.url,
        ...(request.label !== undefined ? { label: request.label } : {}),
        describe,
        redact: (text) => redactor.text(text),
        ...(this.options.budget ? { observeBody: (body: unknown) => this.apiBudget.observeBody(body) } : {}),
      };
      try {
        return { kind: 'read', status, headers, value: await read(reading), hops };
      } catch (error) {
        if (error instanceof RetryableResponse) return { kind: 'again', signal: error, headers, hops };
        if (error instanceof ApilakeError) return { kind: 'refused', error, hops };
        return network(error, hops);
      }
    } finally {
      deadline.clear();
    }
  }

  /** The request sent again for the rest of a body that broke (resumableBody.ts). */
  private async reopen(request: HttpRequest, prepared: PreparedRequest, extra: Readonly<Record<string, string>>, signal: AbortSignal | undefined, count: Counter): Promise<TransportResponse> {
    const response = await reopenRequest(prepared, extra, {
      transport: this.transport,
      timeoutMs: this.options.timeoutMs,
      ...(signal ? { signal } : {}),
      allowedOrigins: this.allowedOrigins,
      max: this.redirects.max,
      redactor: this.options.redactor,
      describe: () => this.describe(request),
      sent: (hops) => count('requests', hops),
    });
    this.apiBudget.observeHeaders(response.headers);
    return { ...response, body: counted(response.body, (bytes) => count('bytes', bytes)) };
  }

  private async wait(ms: number, signal?: AbortSignal): Promise<void> {
    await this.stoppable(this.clockSource.sleep(ms, signal), signal);
  }

  /** A wait (for a retry, for the rate budget) that only a stop ends early: it fails as {@link AbortedError}, whatever the signal's reason. */
  private async stoppable<W>(waiting: Promise<W>, signal: AbortSignal | undefined): Promise<W> {
    try {
      return await waiting;
    } catch (error) {
      throw new AbortedError(String(signal?.reason ?? 'aborted'), { cause: error });
    }
  }

  private describe(request: HttpRequest): string {
    const label = request.label ? `${request.label}, ` : '';
    return `${label}${request.method} ${this.options.redactor.url(request.url)}`;
  }
}

type Counter = (field: keyof HttpStats, by?: number) => void;

/** The body as it arrives, each chunk counted. */
async function* counted(body: AsyncIterable<Uint8Array>, received: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    received(chunk.length);
    yield chunk;
  }
}
