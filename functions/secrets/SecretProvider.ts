/** Where credentials come from: Secrets Manager in Lambda, environment variables on a laptop. */

import { SecretError } from '../errors.js';

/** Resolves a secret name to its JSON object. Implementations never log or echo values. */
export interface SecretProvider {
  /** @throws SecretError when the secret is missing or is not a JSON object. */
  getSecretJson(name: string): Promise<Readonly<Record<string, unknown>>>;
}

/** `apilake/example` → `APILAKE_SECRET_APILAKE_EXAMPLE` (DESIGN.md 3.1). */
export function secretEnvName(name: string): string {
  return `APILAKE_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Reads secrets from `APILAKE_SECRET_<NAME>` environment variables holding JSON. */
export class EnvSecretProvider implements SecretProvider {
  constructor(private readonly env: Readonly<Record<string, string | undefined>> = process.env) {}

  async getSecretJson(name: string): Promise<Readonly<Record<string, unknown>>> {
    const variable = secretEnvName(name);
    const raw = this.env[variable];
    if (raw === undefined || raw === '') {
      throw new SecretError(`secret "${name}" not found: set the environment variable ${variable} to its JSON, e.g. {"token": "..."}`, {
        context: { secret: name },
      });
    }
    return parseSecretJson(name, raw, `environment variable ${variable}`);
  }
}

/** Parses a secret's text as a JSON object; the error names the secret, never the text. */
export function parseSecretJson(name: string, raw: string, where: string): Readonly<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new SecretError(`secret "${name}" (${where}) is not valid JSON; expected an object such as {"token": "..."}`, { context: { secret: name } });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SecretError(`secret "${name}" (${where}) must be a JSON object, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`, {
      context: { secret: name },
    });
  }
  return parsed as Record<string, unknown>;
}

/**
 * Picks string keys out of a secret, failing with every missing key named.
 * @throws SecretError
 */
export function requireSecretKeys<K extends string>(name: string, secret: Readonly<Record<string, unknown>>, keys: readonly K[]): Record<K, string> {
  const missing = keys.filter((key) => typeof secret[key] !== 'string' || secret[key] === '');
  if (missing.length > 0) {
    const present = Object.keys(secret).join(', ') || 'none';
    throw new SecretError(`secret "${name}" lacks ${missing.map((k) => `"${k}"`).join(', ')} (string); keys present: ${present}`, {
      context: { secret: name, missing },
    });
  }
  return Object.fromEntries(keys.map((key) => [key, secret[key] as string])) as Record<K, string>;
}
