import type { DurableContext } from '@aws/durable-execution-sdk-js';
import type { Context } from 'aws-lambda';

/**
 * The durable context with `lambdaContext` in place of the runner's: how the tests give an
 * invocation a simulated deadline (the local runner's context has none to spend).
 */
export function withLambdaContext(ctx: DurableContext, lambdaContext: Context): DurableContext {
  return new Proxy(ctx, {
    get(target, property) {
      if (property === 'lambdaContext') return lambdaContext;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
