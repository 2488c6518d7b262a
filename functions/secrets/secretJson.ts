/** Parsing and checking a secret's JSON; every message names the secret and its keys, never a value. */

import { SecretError } from '../errors.js';

/** Parses a secret's text as a JSON object; the error names the secret, never the text. */
export function parseSecretJson(name: string, raw: string, where: string, example?: string): Readonly<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new SecretError(`secret "${name}" (${where}) is not valid JSON; expected an object such as ${example ?? '{"token": "…"}'}`, {
      context: { secret: name },
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SecretError(`secret "${name}" (${where}) must be a JSON object, found ${jsonTypeName(parsed)}`, { context: { secret: name } });
  }
  return parsed as Record<string, unknown>;
}

/** The JSON type of a value in words (`number`, `an array`, `null`…), for messages that must not quote the value. */
export function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (value === '') return 'an empty string';
  return typeof value;
}

/**
 * Picks string keys out of a secret, failing with every missing or mistyped key named
 * (`secret "s": "token" must be a string, found number`).
 * @throws SecretError
 */
export function requireSecretKeys<K extends string>(name: string, secret: Readonly<Record<string, unknown>>, keys: readonly K[]): Record<K, string> {
  const missing = keys.filter((key) => secret[key] === undefined);
  const mistyped = keys.filter((key) => secret[key] !== undefined && (typeof secret[key] !== 'string' || secret[key] === ''));
  if (missing.length > 0 || mistyped.length > 0) {
    const parts = mistyped.map((key) => wrongValue(key, secret[key]));
    if (missing.length > 0) {
      parts.unshift(`lacks ${missing.map((k) => `"${k}"`).join(', ')} (string)`);
      parts.push(`keys present: ${Object.keys(secret).join(', ') || 'none'}`);
    }
    throw new SecretError(`secret "${name}"${missing.length > 0 ? ' ' : ': '}${parts.join('; ')}`, { context: { secret: name, missing, mistyped } });
  }
  return Object.fromEntries(keys.map((key) => [key, secret[key] as string])) as Record<K, string>;
}

/**
 * An optional string key of a secret: `undefined` when absent.
 * @throws SecretError when present with another type.
 */
export function optionalSecretKey(name: string, secret: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = secret[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new SecretError(`secret "${name}": ${wrongValue(key, value)}`, { context: { secret: name } });
  return value;
}

function wrongValue(key: string, value: unknown): string {
  return value === '' ? `"${key}" must not be empty` : `"${key}" must be a string, found ${jsonTypeName(value)}`;
}
