export { checkSource } from './checkSource.js';
export { findSource, formatPath, loadSourceFile, loadSources, parseSource, type LoadedSource } from './loadSources.js';
export { sourceSchema, type AuthConfig, type PaginationConfig, type RetryConfig, type SourceDefinition, type StreamDefinition } from './sourceSchema.js';
