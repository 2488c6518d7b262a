/** The servers `apilake record` and `apilake test --live` may talk to instead of the ones a source names (a staging API, a local simulation). */

import { InputError, normaliseOrigin, type SourceDefinition } from '../../functions/index.js';

/** The stand-in flags as commander gives them. */
export interface StandInFlags {
  /** Talk to this server instead of the source's base_url. */
  readonly baseUrl?: string;
  /** Ask this token endpoint instead of the source's auth.token_url. */
  readonly tokenUrl?: string;
  /** `ORIGIN=URL` pairs: fetch from URL what an origin of redirects.allowed_origins serves. */
  readonly origin?: readonly string[];
}

/** Checked stand-ins, in the shape the recorder takes them. */
export interface StandIns {
  readonly baseUrl?: string;
  readonly tokenUrl?: string;
  readonly origins?: readonly (readonly [string, string])[];
}

/** Checks the stand-in flags against `source`. @throws InputError naming the flag and what it expects */
export function standInsFrom(flags: StandInFlags, source: SourceDefinition): StandIns {
  for (const [flag, url] of [
    ['--base-url', flags.baseUrl],
    ['--token-url', flags.tokenUrl],
  ] as const) {
    if (url !== undefined && !/^https?:\/\/[^/]/.test(url)) throw new InputError(`${flag} "${url}" is not an http(s) URL`);
  }
  const origins = (flags.origin ?? []).map((pair) => originPair(pair));
  if (flags.tokenUrl !== undefined && !('token_url' in source.auth)) throw new InputError(`--token-url: auth type "${source.auth.type}" of source "${source.name}" asks no token endpoint`);
  return {
    ...(flags.baseUrl !== undefined ? { baseUrl: flags.baseUrl } : {}),
    ...(flags.tokenUrl !== undefined ? { tokenUrl: flags.tokenUrl } : {}),
    ...(origins.length > 0 ? { origins } : {}),
  };
}

/** Whether any stand-in flag was given. */
export function hasStandIns(flags: StandInFlags): boolean {
  return flags.baseUrl !== undefined || flags.tokenUrl !== undefined || (flags.origin ?? []).length > 0;
}

/** `--origin ORIGIN=URL` as the origin the source names and the origin of the server standing in for it. */
function originPair(text: string): readonly [string, string] {
  const at = text.indexOf('=');
  const named = at > 0 ? normaliseOrigin(text.slice(0, at)) : undefined;
  const server = at > 0 ? normaliseOrigin(text.slice(at + 1)) : undefined;
  if (!named || !server) throw new InputError(`--origin "${text}" is not ORIGIN=URL, two http(s) origins (scheme://host[:port]), e.g. https://storage.googleapis.com=http://127.0.0.1:9000`);
  return [named, server];
}
