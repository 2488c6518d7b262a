/** Secrets from AWS Secrets Manager through Powertools Parameters, cached across invocations. */

import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretError } from '../errors.js';
import { parseSecretJson, type SecretProvider } from './SecretProvider.js';

/** Options of an {@link AwsSecretProvider}. */
export interface AwsSecretProviderOptions {
  /** Seconds a secret stays cached in the warm function. @default 300 */
  readonly maxAgeSeconds?: number;
  /** @default a client from the environment */
  readonly client?: SecretsManagerClient;
}

/** Reads JSON secrets from Secrets Manager; errors name the secret, never its value. */
export class AwsSecretProvider implements SecretProvider {
  private readonly provider: SecretsProvider;

  constructor(private readonly options: AwsSecretProviderOptions = {}) {
    this.provider = new SecretsProvider(options.client ? { awsSdkV3Client: options.client } : {});
  }

  async getSecretJson(name: string): Promise<Readonly<Record<string, unknown>>> {
    let raw: unknown;
    try {
      raw = await this.provider.get(name, { maxAge: this.options.maxAgeSeconds ?? 300 });
    } catch (error) {
      const reason = (error as { cause?: { name?: string } }).cause?.name ?? (error as Error).name;
      const hint = reason === 'ResourceNotFoundException' ? 'it does not exist in this account and region' : reason;
      throw new SecretError(`secret "${name}" could not be read from Secrets Manager: ${hint}`, { cause: error, context: { secret: name } });
    }
    if (typeof raw !== 'string') {
      throw new SecretError(`secret "${name}" has no SecretString; store the credentials as JSON text`, { context: { secret: name } });
    }
    return parseSecretJson(name, raw, 'Secrets Manager');
  }
}
