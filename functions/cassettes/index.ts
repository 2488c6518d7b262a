/** Cassettes: a source's HTTP traffic recorded per window, secrets masked, and replayed through the engine offline (docs/cli.md). */
export { cassettePath, cassetteWindow, CASSETTE_FORMAT, parseCassette, serializeCassette, type Cassette, type CassetteInteraction, type WindowExpectation } from './cassette.js';
export { listCassettes, readCassetteFile, writeCassetteFile } from './cassetteFiles.js';
export { compareResults, landedResult } from './landedResult.js';
export { recordWindow, type RecordInput, type RecordOutcome } from './recordWindow.js';
export { replayCassette, type ReplayInput, type ReplayOutcome } from './replayCassette.js';
export { replayClock } from './replayClock.js';
export { trafficFacts, type TrafficFacts } from './trafficFacts.js';
