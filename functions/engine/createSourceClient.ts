/** Builds the HTTP client of one source: limits, retry, circuit breaker and auth wired together. */

import type { Clock } from '../clock.js';
import type { SourceDefinition } from '../config/sourceSchema.js';
import { createAuthenticator } from '../http/auth/createAuthenticator.js';
import { TokenCache } from '../http/auth/TokenCache.js';
import { HttpClient } from '../http/HttpClient.js';
import { Redactor } from '../http/redact.js';
import type { Transport } from '../http/Transport.js';
import type { SecretProvider } from '../secrets/SecretProvider.js';

/** Test and runtime seams of the client. */
export interface SourceClientOptions {
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly fetch?: typeof fetch;
  /** Shared redactor, e.g. one the CLI also applies to everything it prints. */
  readonly redactor?: Redactor;
  /** Sends every request, token requests included, through this transport (a recording or a replay). @default node:http */
  readonly transport?: Transport;
  /**
   * Keeps access tokens to this client instead of the process-wide cache, so its traffic holds
   * its own token requests (a cassette replays on its own). @default false
   */
  readonly isolatedTokens?: boolean;
}

/**
 * One client per source and run, shared by all its windows and streams, so the token bucket,
 * the concurrency cap and the circuit breaker see every request of the source.
 * @throws SecretError when the source's secret is missing or incomplete.
 */
export async function createSourceClient(source: SourceDefinition, secrets: SecretProvider, options: SourceClientOptions = {}): Promise<HttpClient> {
  const redactor = options.redactor ?? new Redactor();
  const client = new HttpClient({
    retry: source.retry,
    timeoutMs: source.timeout_ms,
    redactor,
    headers: source.headers,
    requestsPerSecond: source.rate_limit.requests_per_second,
    burst: source.rate_limit.burst,
    concurrency: source.rate_limit.concurrency,
    clock: options.clock,
    random: options.random,
    fetch: options.fetch,
    ...(options.transport ? { transport: options.transport } : {}),
    redirects: source.redirects,
    ...(source.rate_limit.budget ? { budget: source.rate_limit.budget } : {}),
  });
  const authenticator = await createAuthenticator(
    source.auth,
    secrets,
    redactor,
    async (url, form, headers) => (await client.requestJson({ method: 'POST', url, form, headers: Object.fromEntries(headers), authenticate: false, label: 'token' })).body,
    () => (options.clock ?? { now: Date.now }).now(),
    options.isolatedTokens ? { tokenCache: new TokenCache() } : {},
  );
  client.useAuthenticator(authenticator);
  return client;
}
