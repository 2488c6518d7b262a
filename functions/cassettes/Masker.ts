/**
 * Replaces every secret of a recording by a stable placeholder, and puts a replayed request in
 * the same form, so the two can be compared exactly. A placeholder is `REDACTED.<kind>.<name>`,
 * made only of characters that URL, form, JSON and header encodings leave as they are, so it
 * reads the same wherever it travels:
 * - `REDACTED.secret.<key>`: a value of the source's secret (what replay's secret provider returns);
 * - a base64 value that hides secrets (`Basic` credentials): the same base64 of its text with the
 *   secrets inside replaced, which is what replay computes from the placeholders;
 * - `REDACTED.issued.<n>`: a value first seen in a response (an access token, a rotated refresh
 *   token, a session id): replay reads it from the cassette, so it comes back as the placeholder;
 * - `REDACTED.generated.<n>`: a value first seen in a request that the engine makes afresh on each
 *   run (a signed JWT assertion): numbered in order of appearance on both sides;
 * - `REDACTED.header.<name>`: a credential header whose content holds no known value, whole.
 * Values are found in every spelling the redactor knows (raw, JSON-escaped, percent-encoded,
 * base64 variants; functions/http/redact.ts).
 */

import type { CassettesConfig } from '../config/cassettesSchema.js';
import { evaluate } from '../expressions/evaluate.js';
import { MIN_SECRET_LENGTH, SENSITIVE_QUERY_PARAMS, secretPattern } from '../http/redact.js';

/** A placeholder anywhere in a text. */
export const PLACEHOLDER = /REDACTED\.[a-z]+\.[A-Za-z0-9_-]+/;
const WHOLE_PLACEHOLDER = new RegExp(`^${PLACEHOLDER.source}$`);
/** Request and response headers that carry credentials whatever the auth type. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'];
/** Fields of a token endpoint's answer that are credentials (RFC 6749 §5.1, OpenID Connect's id_token). */
const TOKEN_FIELD = /token|secret|password|assertion|code|key/i;
const BASE64 = /^(?:[A-Za-z0-9+/]+|[A-Za-z0-9_-]+)={0,2}$/;

/** A request as a cassette holds it. */
export interface MaskableRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** A response as a cassette holds it; `body` undefined when it is not UTF-8 text. */
export interface MaskableResponse {
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string | undefined;
}

/** What a {@link Masker} masks besides the values it is given. */
export interface MaskerOptions {
  /** The source's secret as the client first read it: its credentials become `REDACTED.secret.<key>`. */
  readonly secret?: Readonly<Record<string, unknown>>;
  /** The source's `cassettes.redact`. */
  readonly redact?: CassettesConfig['redact'];
  /** Query parameters whose values are credentials, beyond the common ones (an api_key sent in the query). */
  readonly sensitiveParams?: Iterable<string>;
  /** Headers that carry credentials, beyond the common ones (an api_key's header). */
  readonly credentialHeaders?: Iterable<string>;
}

interface Entry {
  placeholder?: string;
  /** Shorter than a credential: masked only where it is a whole JSON string. */
  readonly quotedOnly: boolean;
}

/** Masks the traffic of one window, request by request in the order sent. */
export class Masker {
  private readonly entries = new Map<string, Entry>();
  private readonly counters = { issued: 0, generated: 0 };
  private readonly params: ReadonlySet<string>;
  private readonly headers: ReadonlySet<string>;
  private readonly bodyPaths: readonly string[];
  private readonly secretPlaceholders: Record<string, unknown> = {};
  private compiled: { pattern: RegExp; values: string[] } | undefined;
  /** Response bodies the masking changed: their records land differently on replay. */
  changedBodies = 0;

  constructor(options: MaskerOptions = {}) {
    this.params = new Set([...SENSITIVE_QUERY_PARAMS, ...[...(options.sensitiveParams ?? [])].map((p) => p.toLowerCase())]);
    this.headers = new Set([...CREDENTIAL_HEADERS, ...[...(options.credentialHeaders ?? [])].map((h) => h.toLowerCase()), ...(options.redact?.headers ?? []).map((h) => h.toLowerCase())]);
    this.bodyPaths = options.redact?.body ?? [];
    const used = new Set<string>();
    for (const [key, value] of Object.entries(options.secret ?? {})) {
      if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH || WHOLE_PLACEHOLDER.test(value)) {
        // Not a credential apilake masks (a short identifier, a number), or already a placeholder: replay needs it as it is.
        this.secretPlaceholders[key] = value;
        continue;
      }
      let name = key.replace(/[^A-Za-z0-9_-]/g, '_');
      for (let n = 2; used.has(name); n++) name = `${key.replace(/[^A-Za-z0-9_-]/g, '_')}_${n}`;
      used.add(name);
      const placeholder = `REDACTED.secret.${name}`;
      this.secretPlaceholders[key] = placeholder;
      this.entries.set(value, { placeholder, quotedOnly: false });
    }
  }

  /** The secret as the cassette stores it and replay reads it. */
  get secret(): Readonly<Record<string, unknown>> {
    return this.secretPlaceholders;
  }

  /**
   * Adds values to mask wherever they appear (the redactor's, a session id). Placeholders and short
   * values are left, and so is a value around a credential of the secret (`Bearer <token>`, an auth
   * template rendered): the credential inside is masked as itself, so the value reads as replay
   * renders it from the placeholder.
   */
  addValues(values: Iterable<string>): void {
    const stored = [...this.entries].filter(([, entry]) => entry.placeholder?.startsWith('REDACTED.secret.')).map(([value]) => value);
    for (const value of values) {
      if (PLACEHOLDER.test(value) || stored.some((secret) => value !== secret && value.includes(secret))) continue;
      this.add(value);
    }
  }

  /** Learns the credentials a request carries: sensitive query parameters, `redact` body paths and headers. */
  learnRequest(request: MaskableRequest): void {
    let url: URL | undefined;
    try {
      url = new URL(request.url);
    } catch {
      url = undefined;
    }
    for (const [name, value] of url?.searchParams ?? []) if (this.params.has(name.toLowerCase())) this.add(value);
    for (const [name, value] of Object.entries(request.headers)) if (this.headers.has(name.toLowerCase())) this.addHeaderValue(name, value);
    if (request.body !== undefined) this.learnBody(request.body);
  }

  /** Learns the credentials a response carries: a token endpoint's tokens, cookies, `redact` body paths and headers. */
  learnResponse(response: MaskableResponse, request: MaskableRequest): void {
    for (const [name, value] of response.headers) if (this.headers.has(name.toLowerCase())) this.addHeaderValue(name, value);
    if (response.body === undefined) return;
    if (request.body !== undefined && /(?:^|&)grant_type=/.test(request.body)) {
      const fields = parseJson(response.body);
      if (fields !== null && typeof fields === 'object' && !Array.isArray(fields)) {
        for (const [key, value] of Object.entries(fields)) if (TOKEN_FIELD.test(key) && typeof value === 'string') this.add(value);
      }
    }
    this.learnBody(response.body);
  }

  /** The request with every known value replaced; values first seen here become `generated`. */
  maskRequest<T extends MaskableRequest>(request: T): T {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name] = this.maskHeader(name, value, 'generated');
    return {
      ...request,
      url: this.mask(request.url, 'generated').text,
      headers,
      ...(request.body !== undefined ? { body: this.mask(request.body, 'generated').text } : {}),
    };
  }

  /** The response with every known value replaced; values first seen here become `issued`. */
  maskResponse<T extends MaskableResponse>(response: T): T {
    const headers = response.headers.map(([name, value]) => [name, this.maskHeader(name, value, 'issued')] as [string, string]);
    if (response.body === undefined) return { ...response, headers };
    const body = this.mask(response.body, 'issued');
    if (body.hits > 0) this.changedBodies++;
    return { ...response, headers, body: body.text };
  }

  /** Free text (an error message) masked. */
  maskText(text: string, kind: 'issued' | 'generated'): string {
    return this.mask(text, kind).text;
  }

  private add(value: string, quotedOnly = false): void {
    if (value === '' || this.entries.has(value) || WHOLE_PLACEHOLDER.test(value)) return;
    if (!quotedOnly && value.length < MIN_SECRET_LENGTH) return;
    this.entries.set(value, { quotedOnly });
    this.compiled = undefined;
  }

  private addHeaderValue(name: string, value: string): void {
    if (name.toLowerCase() === 'set-cookie' || name.toLowerCase() === 'cookie') {
      for (const pair of value.split(name.toLowerCase() === 'cookie' ? ';' : /;.*$/s)) {
        const at = pair.indexOf('=');
        if (at > 0) this.add(pair.slice(at + 1).trim());
      }
      return;
    }
    // The credential after an auth scheme (`Bearer abc`), or the whole value.
    const scheme = /^[A-Za-z][A-Za-z0-9_-]*\s+(\S+)$/.exec(value);
    this.add(scheme ? scheme[1]! : value);
  }

  private learnBody(text: string): void {
    if (this.bodyPaths.length === 0) return;
    const json = parseJson(text);
    if (json === undefined) return;
    for (const path of this.bodyPaths) {
      let selected: unknown;
      try {
        selected = evaluate(path, json);
      } catch {
        continue; // a runtime type error: this body has no such value
      }
      forEachString(selected, (value) => this.add(value, value.length < MIN_SECRET_LENGTH));
    }
  }

  private maskHeader(name: string, value: string, kind: 'issued' | 'generated'): string {
    const masked = this.mask(value, kind);
    // A credential header whose content holds no known value is replaced whole: nothing unknown goes through.
    if (!this.headers.has(name.toLowerCase()) || masked.hits > 0 || PLACEHOLDER.test(value)) return masked.text;
    return `REDACTED.header.${name.toLowerCase().replace(/[^a-z0-9_-]/g, '_')}`;
  }

  private mask(text: string, kind: 'issued' | 'generated'): { text: string; hits: number } {
    const compiled = this.compile();
    if (!compiled) return { text, hits: 0 };
    let hits = 0;
    const out = text.replace(compiled.pattern, (...args: unknown[]) => {
      hits++;
      const group = args.findIndex((arg, i) => i > 0 && i <= compiled.values.length && arg !== undefined);
      const value = compiled.values[group - 1]!;
      const entry = this.entries.get(value)!;
      entry.placeholder ??= this.derived(value, kind) ?? `REDACTED.${kind}.${++this.counters[kind]}`;
      return entry.quotedOnly ? `"${entry.placeholder}"` : entry.placeholder;
    });
    return { text: out, hits };
  }

  /**
   * For a base64 value whose text holds secrets (`user:password` of Basic auth): the same base64
   * of that text masked, which is what replay computes from the placeholders. Undefined otherwise.
   */
  private derived(value: string, kind: 'issued' | 'generated'): string | undefined {
    if (!BASE64.test(value)) return undefined;
    const urlSafe = /[-_]/.test(value);
    const bytes = Buffer.from(value, urlSafe ? 'base64url' : 'base64');
    const text = bytes.toString('utf8');
    // A value of whole quanta may be padded base64 that needed no padding (Basic always pads):
    // its masked text is encoded padded, as the replay's client encodes the placeholders.
    const padded = value.endsWith('=') || (!urlSafe && value.length % 4 === 0);
    const encode = (t: string) => {
      const encoded = Buffer.from(t, 'utf8').toString(urlSafe ? 'base64url' : 'base64');
      return padded ? encoded.padEnd(Math.ceil(encoded.length / 4) * 4, '=') : encoded.replace(/=+$/, '');
    };
    if (encode(text) !== value) return undefined;
    const masked = this.mask(text, kind).text;
    return PLACEHOLDER.test(masked) ? encode(masked) : undefined;
  }

  private compile(): { pattern: RegExp; values: string[] } | undefined {
    if (this.entries.size === 0) return undefined;
    if (!this.compiled) {
      // Longest first, so a value that contains another is replaced whole.
      const values = [...this.entries.keys()].sort((a, b) => b.length - a.length);
      const alternatives = values.map((value) => (this.entries.get(value)!.quotedOnly ? `"${escapeRegExp(JSON.stringify(value).slice(1, -1))}"` : secretPattern(value)));
      this.compiled = { pattern: new RegExp(alternatives.map((a) => `(${a})`).join('|'), 'g'), values };
    }
    return this.compiled;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function forEachString(value: unknown, visit: (text: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) for (const item of value) forEachString(item, visit);
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) forEachString(item, visit);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
