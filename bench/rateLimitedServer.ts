/**
 * Child-process entry: serves test/support/rateLimitedApi.ts in a process of its own, so the
 * arrival times it records are taken as the requests reach it, not when the bench's process
 * (which also runs the budget's store) gets round to them: a busy event loop would bunch them up
 * and count requests sent 21 ms apart as arriving together.
 */

import { startRateLimitedApi, type RateLimitedApiOptions } from '../test/support/rateLimitedApi.js';

const api = await startRateLimitedApi(JSON.parse(process.argv[2]!) as RateLimitedApiOptions);
process.send!({ url: api.url });
process.on('message', (message) => {
  if (message === 'report') process.send!({ arrivals: api.arrivals, admittedArrivals: api.admittedArrivals, throttled: api.throttled(), served: api.served() });
});
process.on('disconnect', () => void api.close().then(() => process.exit(0)));
