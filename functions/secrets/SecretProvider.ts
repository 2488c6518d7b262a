/** Where credentials come from: Secrets Manager in Lambda, environment variables on a laptop. */

import { promised } from '../commons/promised.js';
import { SecretError } from '../errors.js';
import { parseSecretJson } from './secretJson.js';

/** How a secret is read. */
export interface SecretReadOptions {
  /** The JSON the caller expects, e.g. `{"token": "…"}`, quoted in hints when the secret is missing or malformed. */
  readonly example?: string;
}

/** A secret's value with the version it was read at, for a later {@link SecretProvider.replaceIfCurrent}. */
export interface VersionedSecret {
  readonly value: Readonly<Record<string, unknown>>;
  /** Opaque: Secrets Manager's VersionId, or a process-local counter. */
  readonly version: string;
}

/** A value a writer stored but has not made current: it is between the two steps of a write, or stopped there. */
export interface PendingWrite extends VersionedSecret {
  /** Epoch ms the value was stored. */
  readonly writtenAt: number;
}

/** What a {@link SecretProvider.replaceIfCurrent} did: wrote, or found that someone else wrote first. */
export type ReplaceOutcome = { readonly written: true; readonly version: string } | { readonly written: false };

/** Resolves a secret name to its JSON object. Implementations never log or echo values. */
export interface SecretProvider {
  /**
   * The secret's JSON, possibly from a cache.
   * @throws SecretError when the secret is missing or is not a JSON object.
   */
  getSecretJson(name: string, options?: SecretReadOptions): Promise<Readonly<Record<string, unknown>>>;
  /**
   * The secret's current JSON and version, never from a cache: credentials that rotate on use
   * (OAuth2 refresh tokens) must start from the latest value.
   * @throws SecretError
   */
  readVersioned(name: string, options?: SecretReadOptions): Promise<VersionedSecret>;
  /**
   * Replaces the secret's JSON only if its current version is still `expectedVersion`
   * (compare-and-swap), so concurrent writers cannot lose each other's rotation.
   * @returns `{ written: false }` when another writer got there first; read again and decide.
   * @throws SecretError when the store refuses the write for any other reason.
   */
  replaceIfCurrent(name: string, value: Readonly<Record<string, unknown>>, expectedVersion: string): Promise<ReplaceOutcome>;
  /**
   * The latest write that has not become current, so a rotated value whose writer died half-way
   * is not lost.
   * @returns undefined when there is none, or when the store writes in one step.
   */
  readPendingWrite(name: string): Promise<PendingWrite | undefined>;
}

/** `apilake/example` → `APILAKE_SECRET_APILAKE_EXAMPLE`: upper case, every other character `_` (docs/security.md). */
export function secretEnvName(name: string): string {
  return `APILAKE_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Options of an {@link EnvSecretProvider}. */
export interface EnvSecretProviderOptions {
  /** Receives the one warning per secret that a rotated value cannot persist. @default a line on stderr */
  readonly warn?: (message: string) => void;
}

/**
 * Values written back during this process, per environment object. `process.env` is one object,
 * so every provider reading it sees the same rotations; a test's own env object stays isolated.
 */
const rotationsByEnv = new WeakMap<object, Map<string, Rotation>>();

/** A value written back, as its JSON text, and how many times it was. */
interface Rotation {
  readonly raw: string;
  readonly version: number;
}

/**
 * Reads secrets from `APILAKE_SECRET_<NAME>` environment variables holding JSON. A rotated value
 * (a new OAuth2 refresh token) is kept in memory for the rest of the process, with one warning:
 * an environment variable cannot be written back for the next run.
 */
export class EnvSecretProvider implements SecretProvider {
  constructor(
    private readonly env: Readonly<Record<string, string | undefined>> = process.env,
    private readonly options: EnvSecretProviderOptions = {},
  ) {}

  async getSecretJson(name: string, options: SecretReadOptions = {}): Promise<Readonly<Record<string, unknown>>> {
    return (await this.readVersioned(name, options)).value;
  }

  readVersioned(name: string, options: SecretReadOptions = {}): Promise<VersionedSecret> {
    return promised(() => this.readNow(name, options));
  }

  private readNow(name: string, options: SecretReadOptions): VersionedSecret {
    const variable = secretEnvName(name);
    const rotated = this.rotations().get(variable);
    const raw = rotated?.raw ?? this.env[variable];
    if (raw === undefined || raw === '') {
      const shape = options.example ? `, e.g. ${options.example}` : ' object';
      throw new SecretError(`secret "${name}" not found: set the environment variable ${variable} to its JSON${shape}`, {
        context: { secret: name, variable },
      });
    }
    return { value: parseSecretJson(name, raw, `environment variable ${variable}`, options.example), version: envVersion(rotated?.version ?? 0) };
  }

  replaceIfCurrent(name: string, value: Readonly<Record<string, unknown>>, expectedVersion: string): Promise<ReplaceOutcome> {
    return promised(() => this.replaceNow(name, value, expectedVersion));
  }

  private replaceNow(name: string, value: Readonly<Record<string, unknown>>, expectedVersion: string): ReplaceOutcome {
    const variable = secretEnvName(name);
    const rotations = this.rotations();
    const current = rotations.get(variable)?.version ?? 0;
    if (envVersion(current) !== expectedVersion) return { written: false };
    rotations.set(variable, { raw: JSON.stringify(value), version: current + 1 });
    if (current === 0) {
      const warn = this.options.warn ?? ((message: string) => process.stderr.write(`${message}\n`));
      warn(
        `apilake: warning: secret "${name}" was rotated by its token endpoint; the new value is kept for this process only, ` +
          `because ${variable} cannot be written back. If the provider revokes the old refresh token, the next run fails ` +
          `with invalid_grant: keep this secret in Secrets Manager (deployed runs write rotations back), or authorize again ` +
          `and update ${variable} before the next run.`,
      );
    }
    return { written: true, version: envVersion(current + 1) };
  }

  /** An environment variable is replaced in one step: nothing is ever half-written. */
  readPendingWrite(): Promise<PendingWrite | undefined> {
    return Promise.resolve(undefined);
  }

  private rotations(): Map<string, Rotation> {
    let rotations = rotationsByEnv.get(this.env);
    if (!rotations) rotationsByEnv.set(this.env, (rotations = new Map<string, Rotation>()));
    return rotations;
  }
}

function envVersion(counter: number): string {
  return `env:${counter}`;
}
