/**
 * The secret providers of a recording and of a replay. Recording reads the real secrets and
 * notes the first value of each, which the masker turns into placeholders. Replay reads the
 * placeholders back from the cassette: a token endpoint replayed from the cassette then issues
 * placeholder tokens, so auth runs as recorded without a single real credential.
 */

import { generateKeyPairSync } from 'node:crypto';
import { SecretError } from '../errors.js';
import type { PendingWrite, ReplaceOutcome, SecretProvider, SecretReadOptions, VersionedSecret } from '../secrets/SecretProvider.js';

/** A provider that passes through to another and remembers what each secret held when first read. */
export class RecordingSecretProvider implements SecretProvider {
  private readonly first = new Map<string, Readonly<Record<string, unknown>>>();

  constructor(private readonly inner: SecretProvider) {}

  /** Each secret as first read, by name. */
  get firstReads(): ReadonlyMap<string, Readonly<Record<string, unknown>>> {
    return this.first;
  }

  async getSecretJson(name: string, options?: SecretReadOptions): Promise<Readonly<Record<string, unknown>>> {
    return this.note(name, await this.inner.getSecretJson(name, options));
  }

  async readVersioned(name: string, options?: SecretReadOptions): Promise<VersionedSecret> {
    const read = await this.inner.readVersioned(name, options);
    this.note(name, read.value);
    return read;
  }

  replaceIfCurrent(name: string, value: Readonly<Record<string, unknown>>, expectedVersion: string): Promise<ReplaceOutcome> {
    return this.inner.replaceIfCurrent(name, value, expectedVersion);
  }

  readPendingWrite(name: string): Promise<PendingWrite | undefined> {
    return this.inner.readPendingWrite(name);
  }

  private note(name: string, value: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
    if (!this.first.has(name)) this.first.set(name, value);
    return value;
  }
}

/**
 * The secrets of a cassette, in memory: what a replay reads, and where a rotated refresh token is
 * written back (with the version check of the real stores). A `private_key` (jwt_bearer) is a
 * throwaway RSA key made for the replay: the assertion it signs is matched as a generated value.
 */
export class ReplaySecretProvider implements SecretProvider {
  private readonly store = new Map<string, { value: Readonly<Record<string, unknown>>; version: number }>();

  constructor(secrets: Readonly<Record<string, Readonly<Record<string, unknown>>>>) {
    let key: string | undefined;
    const throwaway = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const [name, value] of Object.entries(secrets)) {
      const filled = { ...value };
      if (typeof filled.private_key === 'string' && filled.private_key.startsWith('REDACTED.')) {
        key ??= throwaway();
        filled.private_key = key;
      }
      this.store.set(name, { value: filled, version: 1 });
    }
  }

  async getSecretJson(name: string): Promise<Readonly<Record<string, unknown>>> {
    return (await this.readVersioned(name)).value;
  }

  readVersioned(name: string): Promise<VersionedSecret> {
    const entry = this.store.get(name);
    if (!entry) {
      return Promise.reject(new SecretError(`the cassette holds no secret "${name}": the source's auth changed since it was recorded; record the cassette again`, { context: { secret: name } }));
    }
    return Promise.resolve({ value: entry.value, version: String(entry.version) });
  }

  replaceIfCurrent(name: string, value: Readonly<Record<string, unknown>>, expectedVersion: string): Promise<ReplaceOutcome> {
    const entry = this.store.get(name);
    if (!entry || String(entry.version) !== expectedVersion) return Promise.resolve({ written: false });
    this.store.set(name, { value, version: entry.version + 1 });
    return Promise.resolve({ written: true, version: String(entry.version + 1) });
  }

  readPendingWrite(): Promise<PendingWrite | undefined> {
    return Promise.resolve(undefined);
  }
}
