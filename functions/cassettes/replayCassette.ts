/** Replays one cassette through the engine into a lake, with no network and no secret, and says how it differs from what it pins. */

import type { Clock } from '../clock.js';
import type { SourceDefinition } from '../config/sourceSchema.js';
import { createSourceClient } from '../engine/createSourceClient.js';
import { runWindow, type WindowResult } from '../engine/runWindow.js';
import { Redactor } from '../http/redact.js';
import type { LakeStorage } from '../sink/LakeStorage.js';
import { cassetteWindow, type Cassette, type WindowExpectation } from './cassette.js';
import { ReplaySecretProvider } from './cassetteSecrets.js';
import { compareResults, landedResult } from './landedResult.js';
import { authSecretName, maskerFor } from './maskerFor.js';
import { Replayer } from './Replayer.js';
import { replayClock } from './replayClock.js';

/** What {@link replayCassette} needs. */
export interface ReplayInput {
  readonly source: SourceDefinition;
  readonly cassette: Cassette;
  /** A lake of its own (a temporary folder): the window is landed there. */
  readonly storage: LakeStorage;
  /** @default a {@link replayClock} */
  readonly clock?: Clock;
}

/** How a replay went. */
export interface ReplayOutcome {
  /** The window's result; undefined when the source no longer has the cassette's stream. */
  readonly result?: WindowResult;
  /** What the window landed, when it committed. */
  readonly landed?: WindowExpectation;
  /** Every way the replay differs from the cassette, one line each; empty when it passes. */
  readonly problems: readonly string[];
  /** Of those, the ones about requests: sent but not recorded, recorded but not sent, a failed window. */
  readonly requestProblems: readonly string[];
}

/** Replays `cassette` with the source as it is defined now. */
export async function replayCassette(input: ReplayInput): Promise<ReplayOutcome> {
  const { source, cassette, storage } = input;
  const stream = source.streams.find((s) => s.name === cassette.stream);
  if (!stream) return only([`the source has no stream "${cassette.stream}" any more (streams: ${source.streams.map((s) => s.name).join(', ')})`]);
  const clock = input.clock ?? replayClock();
  const redactor = new Redactor();
  const secretName = authSecretName(source);
  const masker = maskerFor(source, secretName ? cassette.secrets[secretName] : undefined);
  const replayer = new Replayer(cassette, masker, redactor, source.cassettes?.ignore ?? { params: [], headers: [] });
  let result: WindowResult;
  try {
    const client = await createSourceClient(source, new ReplaySecretProvider(cassette.secrets), { transport: replayer.transport, redactor, clock, isolatedTokens: true });
    result = await runWindow({ source, stream, window: cassetteWindow(cassette), client, storage, clock, force: true });
  } catch (error) {
    return only([`the replay could not start: ${(error as Error).message}`]);
  }
  const problems = [...replayer.mismatches];
  // A failure the mismatches already explain would only repeat them as a network error.
  if (result.status !== 'committed' && problems.length === 0) problems.push(`the window failed: ${redactor.text(result.error?.message ?? 'unknown error')}`);
  // Once a window fails, the recorded requests after the failure are unused by necessity: not listed.
  if (result.status !== 'committed') return { result, ...only(problems) };
  const landed = await landedResult(storage, result.manifestKey);
  const requestProblems = [...problems, ...replayer.unused()];
  return { result, landed, requestProblems, problems: [...requestProblems, ...compareResults(cassette.expected, landed)] };
}

function only(requestProblems: readonly string[]): { problems: readonly string[]; requestProblems: readonly string[] } {
  return { problems: requestProblems, requestProblems };
}
