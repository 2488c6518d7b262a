/** Access tokens kept until shortly before they expire, with one fetch in flight per key. */

/** An access token as the token endpoint issued it. */
export interface IssuedToken {
  readonly accessToken: string;
  /** Epoch ms after which the token is fetched again (its expiry minus a margin). */
  readonly refreshAt: number;
  /** A new refresh token, when the endpoint rotated it (RFC 6749 §6). */
  readonly refreshToken?: string;
  /** The response's other text and number fields (e.g. Salesforce's `instance_url`), for `{auth.<field>}`. */
  readonly fields?: Readonly<Record<string, string>>;
}

/**
 * A cache of access tokens by key. Concurrent requests for a missing or stale token share one
 * fetch, so a burst of pages costs one token request (and, for rotating refresh tokens, one
 * rotation).
 */
export class TokenCache {
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly pending = new Map<string, Promise<IssuedToken>>();

  /** The cached token of `key` while fresh, else the result of `fetch` (shared with concurrent callers). */
  async obtain(key: string, fetch: () => Promise<IssuedToken>, now: number): Promise<string> {
    return (await this.issued(key, fetch, now)).accessToken;
  }

  /** Like {@link obtain}, the whole issued token: its access token and the response's other fields. */
  async issued(key: string, fetch: () => Promise<IssuedToken>, now: number): Promise<IssuedToken> {
    const cached = this.tokens.get(key);
    if (cached && now < cached.refreshAt) return cached;
    let inFlight = this.pending.get(key);
    if (!inFlight) {
      inFlight = fetch()
        .then((token) => {
          this.tokens.set(key, token);
          return token;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, inFlight);
    }
    return inFlight;
  }

  /** Forgets the token of `key` (the API answered 401 to it). */
  invalidate(key: string): void {
    this.tokens.delete(key);
  }
}

/**
 * Shared by every client of the process. A rotating refresh token costs a secret write and a
 * chance of racing another run each time it is used, so a warm Lambda's next invocation and the
 * CLI's concurrent windows reuse one access token instead of each rotating the refresh token.
 */
export const processTokenCache = new TokenCache();
