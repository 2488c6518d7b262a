/** Child-process entry: serves the bench API so its CPU and memory never count against the client measured. */

import { startBenchApi, type BenchApiOptions } from './benchApi.js';

const options = JSON.parse(process.argv[2]!) as BenchApiOptions;
const api = await startBenchApi(options);
process.send!({ url: api.url });
process.on('disconnect', () => void api.close().then(() => process.exit(0)));
