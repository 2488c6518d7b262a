/**
 * {@link DurableExecutionStatusLookup} on the Lambda API: GetDurableExecution, without the
 * execution's input and result (which may be large, and are not needed).
 * https://docs.aws.amazon.com/lambda/latest/api/API_GetDurableExecution.html
 */

import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { DurableExecutionStatusLookup } from './windowClaim.js';

type LambdaModule = typeof import('@aws-sdk/client-lambda');

/**
 * @example
 * const lookup = new LambdaExecutionStatus();
 * await lookup.durableExecutionStatus(holderArn); // 'TIMED_OUT'
 */
export class LambdaExecutionStatus implements DurableExecutionStatusLookup {
  private sdk: Promise<{ module: LambdaModule; client: LambdaClient }> | undefined;

  /** @param client the client to use @default one made on first use */
  constructor(private readonly client?: LambdaClient) {}

  async durableExecutionStatus(executionArn: string): Promise<string> {
    const { module, client } = await this.load();
    const response = await client.send(new module.GetDurableExecutionCommand({ DurableExecutionArn: executionArn, IncludeExecutionData: false }));
    return response.Status ?? 'UNKNOWN';
  }

  /**
   * The SDK is loaded on first use, not at the container's start: a take-over is rare, and the
   * module's init would otherwise add to every cold start. The durable execution SDK loads the
   * same module, so the bundle is no larger.
   */
  private async load(): Promise<{ module: LambdaModule; client: LambdaClient }> {
    this.sdk ??= import('@aws-sdk/client-lambda').then((module) => ({ module, client: this.client ?? new module.LambdaClient({}) }));
    // A failed load is not kept: the next call tries again.
    return this.sdk.catch((error: unknown) => {
      this.sdk = undefined;
      throw error;
    });
  }
}
