/**
 * Child-process entry of the cost scenario: one cold invocation of the deployed handler, as
 * Lambda runs it. The environment (set by the parent) holds what a deployment gives the function
 * (the compiled source, bucket, idempotency and budget tables) and endpoints that reach moto and
 * dynalite through counting proxies. Prints the handler's wall and CPU time and what it landed
 * as JSON. (Init is measured on the deployed bundle instead: this child's bundle leaves packages
 * in node_modules, which loads slower than the function's single minified file.)
 */

import { lambdaContext } from '../test/support/lambdaContext.js';

/** What one invocation reports. */
export interface CostLanding {
  readonly handlerMs: number;
  /** CPU time of the process (every thread) while the handler ran. */
  readonly cpuMs: number;
  readonly records: number;
  readonly pages: number;
  readonly status: string;
}

const event = JSON.parse(process.argv[2]!) as unknown;
const { handler } = await import('../functions/ingest/handler.js');
const cpuBefore = process.cpuUsage();
const started = performance.now();
const summary = await handler(event, lambdaContext());
const handlerMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const stream = summary.streams[0];
if (stream?.status !== 'committed') throw new Error(`the cost landing did not commit: ${JSON.stringify(summary)}`);
const report: CostLanding = { handlerMs, cpuMs: (cpu.user + cpu.system) / 1000, records: stream.records, pages: stream.pages, status: stream.status };
console.log(JSON.stringify(report));
