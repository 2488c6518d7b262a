/** Builds the HTTP client of one source: limits, retry, circuit breaker and auth wired together. */

import { createRateBudget, type BudgetPlace } from '../budget/createRateBudget.js';
import type { BudgetChange } from '../budget/SharedRateBudget.js';
import type { Clock } from '../clock.js';
import type { SourceDefinition } from '../config/sourceSchema.js';
import { createAuthenticator } from '../http/auth/createAuthenticator.js';
import { TokenCache } from '../http/auth/TokenCache.js';
import { HttpClient } from '../http/HttpClient.js';
import type { RateBudget } from '../http/RateBudget.js';
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
  /** Where the source's rate budget is kept, or the budget itself. @default this process only */
  readonly budget?: BudgetPlace | RateBudget;
  /** Told when a shared budget falls back to this run's share (its store cannot be reached), and when it is shared again. */
  readonly onBudgetChange?: (change: BudgetChange) => void;
}

/**
 * One client per source and run, shared by all its windows and streams, so the rate budget and
 * the circuit breaker see every request of the run; a shared budget (DynamoDB, the lake folder)
 * extends the budget to every run of the source at once. Call `close()` when done.
 * @throws SecretError when the source's secret is missing or incomplete.
 */
export async function createSourceClient(source: SourceDefinition, secrets: SecretProvider, options: SourceClientOptions = {}): Promise<HttpClient> {
  const redactor = options.redactor ?? new Redactor();
  const client = new HttpClient({
    retry: source.retry,
    timeoutMs: source.timeout_ms,
    redactor,
    headers: source.headers,
    rateBudget: budgetOf(source, options),
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

function budgetOf(source: SourceDefinition, options: SourceClientOptions): RateBudget {
  const budget = options.budget ?? { kind: 'process' };
  if (!('kind' in budget)) return budget;
  return createRateBudget(source, budget, { clock: options.clock, random: options.random, onChange: options.onBudgetChange });
}
