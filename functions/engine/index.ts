/** What runs sources (the front door loads it on first use: it brings the HTTP client and the Parquet encoder). */
export { createSourceClient, type SourceClientOptions } from './createSourceClient.js';
export { curateRange, type CurateRangeInput } from './curateWindow.js';
export { runSource, type SourceRunInput } from './runSource.js';
export { runWindow, type WindowResult, type WindowRunInput } from './runWindow.js';
