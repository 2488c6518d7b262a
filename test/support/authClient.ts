/**
 * An HTTP client wired to a source's auth as createSourceClient wires it, with the auth seams
 * open: each client gets its own access-token cache (as separate Lambda containers have), and
 * the re-read wait can be replaced.
 */

import { createAuthenticator } from '../../functions/http/auth/createAuthenticator.js';
import { TokenCache } from '../../functions/http/auth/TokenCache.js';
import { HttpClient, type HttpResult } from '../../functions/http/HttpClient.js';
import { Redactor } from '../../functions/http/redact.js';
import type { SecretProvider } from '../../functions/secrets/SecretProvider.js';
import { ManualClock } from './manualClock.js';
import { testSource } from './sources.js';

/** A client of one API with one auth block. */
export interface AuthClient {
  readonly client: HttpClient;
  readonly redactor: Redactor;
  /** GET a path of the API as page 1 of a window. */
  get(path: string): Promise<HttpResult<unknown>>;
}

/** Builds the client; `auth` is the YAML auth block, validated by the real loader. */
export async function authClient(
  baseUrl: string,
  auth: Record<string, unknown>,
  secrets: SecretProvider,
  options: { clock?: ManualClock; tokenCache?: TokenCache; sleep?: (ms: number) => Promise<void> } = {},
): Promise<AuthClient> {
  const source = testSource(baseUrl, { path: '/data' }, { auth });
  const clock = options.clock ?? new ManualClock(Date.now());
  const redactor = new Redactor();
  const client = new HttpClient({ retry: source.retry, timeoutMs: source.timeout_ms, redactor, clock, random: () => 0 });
  const authenticator = await createAuthenticator(
    source.auth,
    secrets,
    redactor,
    async (url, form, headers) => (await client.requestJson({ method: 'POST', url, form, headers: Object.fromEntries(headers), authenticate: false, label: 'token' })).body,
    () => clock.now(),
    { tokenCache: options.tokenCache ?? new TokenCache(), sleep: options.sleep },
  );
  client.useAuthenticator(authenticator);
  return { client, redactor, get: (path) => client.requestJson({ method: 'GET', url: new URL(path, baseUrl), label: 'page 1' }) };
}
