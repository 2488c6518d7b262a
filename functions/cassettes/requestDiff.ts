/** How a replayed request differs from a recorded one, said field by field (query parameter, header, body path). */

import type { MaskableRequest } from './Masker.js';

/** Most differences listed for one request. */
const MAX_DIFFERENCES = 6;

/** What a replay may let differ: the source's `cassettes.ignore`. */
export interface IgnoreRules {
  readonly params: readonly string[];
  readonly headers: readonly string[];
}

/** The form two requests are compared in: ignored query parameters and headers left out. */
export function matchKey(request: MaskableRequest, ignore: IgnoreRules): string {
  const skipHeaders = new Set(ignore.headers.map((h) => h.toLowerCase()));
  const headers = Object.entries(request.headers)
    .filter(([name]) => !skipHeaders.has(name.toLowerCase()))
    .map(([name, value]) => `${name.toLowerCase()}: ${value}`)
    .sort();
  return JSON.stringify([request.method, withoutParams(request.url, ignore.params), headers, request.body ?? null]);
}

/** A score of how alike two requests are, to find the recorded request a changed one stands for. */
export function likeness(a: MaskableRequest, b: MaskableRequest): number {
  if (a.method !== b.method) return 0;
  const ua = safeUrl(a.url);
  const ub = safeUrl(b.url);
  let score = 1;
  if (ua && ub && ua.origin === ub.origin && ua.pathname === ub.pathname) score += 100;
  if (ua && ub) for (const [name, value] of ua.searchParams) if (ub.searchParams.getAll(name).includes(value)) score += 2;
  if ((a.body ?? '') === (b.body ?? '')) score += 10;
  return score;
}

/** The differences of `sent` from `recorded`, one line each, e.g. `query cursor: recorded "12", sent "13"`. */
export function describeDifferences(recorded: MaskableRequest, sent: MaskableRequest, ignore: IgnoreRules): string[] {
  const out: string[] = [];
  if (recorded.method !== sent.method) out.push(`method: recorded ${recorded.method}, sent ${sent.method}`);
  const ur = safeUrl(recorded.url);
  const us = safeUrl(sent.url);
  if (!ur || !us) {
    if (recorded.url !== sent.url) out.push(`URL: recorded ${quote(recorded.url)}, sent ${quote(sent.url)}`);
  } else {
    if (ur.origin !== us.origin) out.push(`origin: recorded ${ur.origin}, sent ${us.origin}`);
    if (ur.pathname !== us.pathname) out.push(`path: recorded ${quote(ur.pathname)}, sent ${quote(us.pathname)}`);
    const skip = new Set(ignore.params);
    const names = [...new Set([...ur.searchParams.keys(), ...us.searchParams.keys()])].filter((n) => !skip.has(n));
    for (const name of names) out.push(...valueDifference(`query ${name}`, ur.searchParams.getAll(name), us.searchParams.getAll(name)));
    if (out.length === 0 && ur.search !== us.search) out.push(`query order: recorded ${quote(ur.search)}, sent ${quote(us.search)}`);
  }
  const skipHeaders = new Set(ignore.headers.map((h) => h.toLowerCase()));
  const headerNames = [...new Set([...Object.keys(recorded.headers), ...Object.keys(sent.headers)].map((h) => h.toLowerCase()))].filter((h) => !skipHeaders.has(h));
  for (const name of headerNames) out.push(...valueDifference(`header ${name}`, headerValues(recorded, name), headerValues(sent, name)));
  if ((recorded.body ?? '') !== (sent.body ?? '')) out.push(...bodyDifferences(recorded.body, sent.body));
  return out.length > MAX_DIFFERENCES ? [...out.slice(0, MAX_DIFFERENCES), `… and ${out.length - MAX_DIFFERENCES} more`] : out;
}

function bodyDifferences(recorded: string | undefined, sent: string | undefined): string[] {
  if (recorded === undefined) return [`body: not recorded, sent ${quote(sent!)}`];
  if (sent === undefined) return [`body: recorded ${quote(recorded)}, not sent`];
  const a = parseJson(recorded);
  const b = parseJson(sent);
  if (a !== undefined && b !== undefined) {
    const paths: string[] = [];
    jsonDifferences(a, b, '', paths);
    if (paths.length > 0) return paths;
  }
  let at = 0;
  while (at < recorded.length && recorded[at] === sent[at]) at++;
  return [`body from character ${at + 1}: recorded ${quote(recorded.slice(Math.max(0, at - 20), at + 40))}, sent ${quote(sent.slice(Math.max(0, at - 20), at + 40))}`];
}

function jsonDifferences(a: unknown, b: unknown, path: string, out: string[]): void {
  if (out.length >= MAX_DIFFERENCES) return;
  const objectLike = (v: unknown) => v !== null && typeof v === 'object';
  if (objectLike(a) && objectLike(b) && Array.isArray(a) === Array.isArray(b)) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    for (const key of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
      const child = Array.isArray(a) ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
      if (!(key in ra)) out.push(`body ${child}: not recorded, sent ${quote(JSON.stringify(rb[key]))}`);
      else if (!(key in rb)) out.push(`body ${child}: recorded ${quote(JSON.stringify(ra[key]))}, not sent`);
      else jsonDifferences(ra[key], rb[key], child, out);
    }
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`body ${path || '(whole)'}: recorded ${JSON.stringify(a)}, sent ${JSON.stringify(b)}`);
}

function valueDifference(what: string, recorded: readonly string[], sent: readonly string[]): string[] {
  if (recorded.join('\n') === sent.join('\n')) return [];
  if (recorded.length === 0) return [`${what}: not recorded, sent ${sent.map(quote).join(', ')}`];
  if (sent.length === 0) return [`${what}: recorded ${recorded.map(quote).join(', ')}, not sent`];
  return [`${what}: recorded ${recorded.map(quote).join(', ')}, sent ${sent.map(quote).join(', ')}`];
}

function headerValues(request: MaskableRequest, name: string): string[] {
  return Object.entries(request.headers)
    .filter(([n]) => n.toLowerCase() === name)
    .map(([, v]) => v);
}

function withoutParams(url: string, params: readonly string[]): string {
  if (params.length === 0) return url;
  const parsed = safeUrl(url);
  if (!parsed) return url;
  for (const name of params) parsed.searchParams.delete(name);
  return parsed.href;
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A value quoted for a message, long ones shortened. */
function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}
