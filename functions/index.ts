/** The apilake engine, shared by the Lambda handler and the CLI. */
export * from './config/index.js';
export * from './errors.js';
export { systemClock, type Clock } from './clock.js';
export { createSourceClient, type SourceClientOptions } from './engine/createSourceClient.js';
export { runSource, selectStreams, windowsFor, type SourceRunInput, type WindowSelection } from './engine/runSource.js';
export { runWindow, type WindowResult, type WindowRunInput } from './engine/runWindow.js';
export { HttpClient, type HttpStats } from './http/HttpClient.js';
export { Redactor } from './http/redact.js';
export { EnvSecretProvider, secretEnvName, type SecretProvider } from './secrets/SecretProvider.js';
export { FsLakeStorage } from './sink/FsLakeStorage.js';
export type { LakeStorage } from './sink/LakeStorage.js';
export * from './sink/lakeLayout.js';
export { parseManifest, type Manifest, type PartInfo } from './sink/manifest.js';
export { describeWindow, isoSeconds, splitIntoWindows, windowBefore, type TimeWindow } from './window/TimeWindow.js';
export { formatDuration, parseDuration } from './window/duration.js';
