/**
 * The AWS cost of landing a million records, from what one deployed-handler invocation was
 * measured to do (its requests to AWS, its init and handler time, its CPU time) and the
 * function's memory and architecture as the CDK app deploys it, at {@link AWS_PRICES}; beside
 * AppFlow's price for the same records, one flow run per window.
 */

import { AWS_PRICES } from './awsPrices.js';
import { billingClass, type BillingClass } from './awsRequests.js';

/** What one landing (one invocation landing one window) was measured to do. */
export interface MeasuredLanding {
  readonly records: number;
  /** Bytes of the records' JSON as the API sent them (what AppFlow bills as data processed). */
  readonly recordBytes: number;
  /** Module init of the deployed bundle in a fresh process (billed, as Lambda's INIT phase is; every invocation counted cold). */
  readonly initMs: number;
  /** The handler's wall time. */
  readonly handlerMs: number;
  /** CPU time while the handler ran, every thread. */
  readonly cpuMs: number;
  /** AWS requests by operation (`s3:PutObject`, …), as counted on the wire. */
  readonly requests: Readonly<Record<string, number>>;
}

/** The deployed function. */
export interface FunctionConfig {
  readonly memoryMb: number;
  readonly architecture: string;
}

/** USD per million records, and what they are made of. */
export interface LandingCost {
  readonly invocations: number;
  /** Seconds billed per invocation on Lambda, at most: init and the handler's CPU time slowed to the memory's share of a vCPU, plus the handler's waits. */
  readonly lambdaSeconds: number;
  readonly gbSeconds: number;
  /** Requests of each billing class per million records. */
  readonly requests: Readonly<Record<BillingClass, number>>;
  readonly usd: {
    readonly lambdaDuration: number;
    readonly lambdaRequests: number;
    readonly s3: number;
    readonly dynamodb: number;
    readonly secretsManager: number;
    readonly total: number;
    readonly appflow: number;
  };
}

/**
 * Prices a million records landed in windows like the measured one (one cold invocation per
 * window). Duration: this machine runs the CPU work on full cores, a Lambda of `memoryMb` on
 * `memoryMb / 1769` of a vCPU, so init (CPU-bound) is stretched by that factor, and the handler's
 * CPU time by the factor less one on top of its wall time (an upper bound: CPU work that
 * overlapped the API's latency here may overlap it there too).
 */
export function landingCost(landing: MeasuredLanding, fn: FunctionConfig): LandingCost {
  if (fn.architecture !== 'arm64') throw new Error(`the cost model has Arm prices only; the function is ${fn.architecture}`);
  if (landing.records <= 0) throw new Error(`a landing of ${landing.records} records cannot be priced per record`);
  const { lambda, s3, dynamodb, secretsManager, appflow } = AWS_PRICES;
  const invocations = 1e6 / landing.records;
  const slowdown = Math.max(1, lambda.mbPerVcpu / fn.memoryMb);
  const lambdaSeconds = (landing.initMs * slowdown + landing.handlerMs + landing.cpuMs * (slowdown - 1)) / 1000;
  const gbSeconds = invocations * lambdaSeconds * (fn.memoryMb / 1024);
  const requests: Record<BillingClass, number> = { 's3-put': 0, 's3-get': 0, 's3-free': 0, 'dynamodb-write': 0, 'dynamodb-read': 0, 'secrets-manager': 0, other: 0 };
  for (const [operation, count] of Object.entries(landing.requests)) requests[billingClass(operation)] += count * invocations;
  const usd = {
    lambdaDuration: gbSeconds * lambda.armPerGbSecond,
    lambdaRequests: invocations * lambda.perRequest,
    s3: requests['s3-put'] * s3.putCopyPostListPerRequest + requests['s3-get'] * s3.getPerRequest,
    dynamodb: requests['dynamodb-write'] * dynamodb.perWriteUnit + requests['dynamodb-read'] * dynamodb.perReadUnit,
    secretsManager: requests['secrets-manager'] * secretsManager.perCall,
    appflow: invocations * appflow.perFlowRun + ((landing.recordBytes * invocations) / 2 ** 30) * appflow.perGbProcessed,
  };
  return { invocations, lambdaSeconds, gbSeconds, requests, usd: { ...usd, total: usd.lambdaDuration + usd.lambdaRequests + usd.s3 + usd.dynamodb + usd.secretsManager } };
}
