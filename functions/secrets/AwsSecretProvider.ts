/**
 * Secrets from AWS Secrets Manager: reads through Powertools Parameters (cached across
 * invocations), versioned reads and compare-and-swap writes straight through the SDK.
 */

import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { SecretError } from '../errors.js';
import { parseSecretJson } from './secretJson.js';
import type { PendingWrite, ReplaceOutcome, SecretProvider, SecretReadOptions, VersionedSecret } from './SecretProvider.js';

/** Options of an {@link AwsSecretProvider}. */
export interface AwsSecretProviderOptions {
  /** Seconds a secret stays cached in the warm function. @default 300 */
  readonly maxAgeSeconds?: number;
  /** @default a client from the environment */
  readonly client?: SecretsManagerClient;
}

/** The staging label of a version apilake wrote, until it becomes (or loses the race to become) AWSCURRENT. */
export const PENDING_STAGE = 'APILAKE_PENDING';
const CURRENT_STAGE = 'AWSCURRENT';

/** Reads and writes JSON secrets in Secrets Manager; errors name the secret, never its value. */
export class AwsSecretProvider implements SecretProvider {
  private readonly client: SecretsManagerClient;
  private readonly provider: SecretsProvider;

  constructor(private readonly options: AwsSecretProviderOptions = {}) {
    this.client = options.client ?? new SecretsManagerClient({});
    this.provider = new SecretsProvider({ awsSdkV3Client: this.client });
  }

  async getSecretJson(name: string, options: SecretReadOptions = {}): Promise<Readonly<Record<string, unknown>>> {
    let raw: unknown;
    try {
      // AWSCURRENT is what GetSecretValue returns by default; naming it keeps the read exact on
      // local servers that track the default version apart from the label.
      raw = await this.provider.get(name, { maxAge: this.options.maxAgeSeconds ?? 300, sdkOptions: { VersionStage: CURRENT_STAGE } });
    } catch (error) {
      throw readError(name, error);
    }
    if (typeof raw !== 'string') throw noSecretString(name);
    return parseSecretJson(name, raw, 'Secrets Manager', options.example);
  }

  async readVersioned(name: string, options: SecretReadOptions = {}): Promise<VersionedSecret> {
    let output;
    try {
      output = await this.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: CURRENT_STAGE }));
    } catch (error) {
      throw readError(name, error);
    }
    if (typeof output.SecretString !== 'string') throw noSecretString(name);
    return { value: parseSecretJson(name, output.SecretString, 'Secrets Manager', options.example), version: output.VersionId! };
  }

  /**
   * Secrets Manager has no conditional PutSecretValue, so the write is two steps:
   * 1. PutSecretValue with `VersionStages: [APILAKE_PENDING]`: a new version that is not yet
   *    current ("If you don't include VersionStages, then Secrets Manager automatically moves the
   *    staging label AWSCURRENT to this version" — API reference, PutSecretValue; so we include one).
   * 2. UpdateSecretVersionStage moving AWSCURRENT to it with `RemoveFromVersionId` = the version
   *    read: "If the label is attached and you either do not specify this parameter, or the version
   *    ID does not match, then the operation fails" (API reference, UpdateSecretVersionStage).
   *    That failure is the version check: another writer moved AWSCURRENT first.
   * A version that lost keeps only the pending label until the next write takes it; Secrets Manager
   * then treats it as deprecated and removes it. Moving AWSCURRENT also moves AWSPREVIOUS to the
   * version read, so the previous value stays at hand.
   */
  async replaceIfCurrent(name: string, value: Readonly<Record<string, unknown>>, expectedVersion: string): Promise<ReplaceOutcome> {
    // Our own token as the version id: an SDK retry of the put is idempotent, and we know the id even if a response is lost.
    const versionId = randomUUID();
    try {
      await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: JSON.stringify(value), ClientRequestToken: versionId, VersionStages: [PENDING_STAGE] }));
    } catch (error) {
      throw writeError(name, 'PutSecretValue', error);
    }
    try {
      await this.client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: CURRENT_STAGE, MoveToVersionId: versionId, RemoveFromVersionId: expectedVersion }));
    } catch (error) {
      // Refused: either the version check failed, or an SDK retry of a move that had succeeded. The label tells which.
      const current = await this.currentVersionId(name).catch(() => undefined);
      if (current !== undefined && current !== versionId && current !== expectedVersion) return { written: false };
      if (current !== versionId) throw writeError(name, 'UpdateSecretVersionStage', error);
    }
    // The cached copy would hand the old value to the next invocation of this warm function for up to maxAge.
    this.provider.clearCache();
    return { written: true, version: versionId };
  }

  async readPendingWrite(name: string): Promise<PendingWrite | undefined> {
    let output;
    try {
      output = await this.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: PENDING_STAGE }));
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return undefined;
      throw readError(name, error);
    }
    // Still labelled pending once it became current: that write completed.
    if (output.VersionStages?.includes(CURRENT_STAGE) || typeof output.SecretString !== 'string') return undefined;
    return {
      value: parseSecretJson(name, output.SecretString, `Secrets Manager (${PENDING_STAGE})`),
      version: output.VersionId!,
      writtenAt: output.CreatedDate?.getTime() ?? 0,
    };
  }

  private async currentVersionId(name: string): Promise<string | undefined> {
    return (await this.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: CURRENT_STAGE }))).VersionId;
  }
}

function errorName(error: unknown): string {
  return (error as { cause?: { name?: string } }).cause?.name ?? (error as Error).name;
}

function readError(name: string, error: unknown): SecretError {
  const reason = errorName(error);
  const hint = reason === 'ResourceNotFoundException' ? 'it does not exist in this account and region' : reason;
  return new SecretError(`secret "${name}" could not be read from Secrets Manager: ${hint}`, { cause: error, context: { secret: name } });
}

function noSecretString(name: string): SecretError {
  return new SecretError(`secret "${name}" has no SecretString; store the credentials as JSON text`, { context: { secret: name } });
}

function writeError(name: string, operation: string, error: unknown): SecretError {
  const reason = errorName(error);
  const hint = reason === 'AccessDeniedException' ? '; the function needs secretsmanager:PutSecretValue and secretsmanager:UpdateSecretVersionStage on this secret' : '';
  return new SecretError(
    `secret "${name}": the rotated value could not be written back to Secrets Manager (${operation}: ${reason})${hint}. ` +
      'If the provider revoked the old refresh token, authorize again and store the new one in the secret.',
    {
      cause: error,
      context: { secret: name, operation },
    },
  );
}
