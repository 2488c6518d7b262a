/** Child-process entry: serves the bench API so its CPU and memory never count against apilake. */

import { startBenchApi, type BenchApiOptions } from './benchApi.js';

const options = JSON.parse(process.argv[2]!) as BenchApiOptions;
const api = await startBenchApi(options);
process.send!({ url: api.url, pages: api.pages });
process.on('disconnect', () => void api.close().then(() => process.exit(0)));
