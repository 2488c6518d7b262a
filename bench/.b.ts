import { buildBench } from './buildBench.js';
await buildBench();
