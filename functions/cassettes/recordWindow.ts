/**
 * Records one window against the live API: runs it through the engine with a recording
 * transport into a scratch lake, masks every secret of its traffic, and checks that the cassette
 * replays (no network, no secret) to what the live run landed before handing it back.
 */

import { authBaseUrlField } from '../config/authBaseUrl.js';
import type { SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';
import { createSourceClient } from '../engine/createSourceClient.js';
import { InputError } from '../errors.js';
import { runWindow, type WindowResult } from '../engine/runWindow.js';
import { nodeTransport } from '../http/nodeTransport.js';
import { Redactor } from '../http/redact.js';
import type { Transport } from '../http/Transport.js';
import type { SecretProvider } from '../secrets/SecretProvider.js';
import type { LakeStorage } from '../sink/LakeStorage.js';
import { isoSeconds, type TimeWindow } from '../window/TimeWindow.js';
import { CASSETTE_FORMAT, serializeCassette, storedBody, type Cassette, type CassetteInteraction } from './cassette.js';
import { RecordingSecretProvider } from './cassetteSecrets.js';
import { compareResults, landedResult } from './landedResult.js';
import { authSecretName, maskerFor } from './maskerFor.js';
import { recordingTransport, type RecordedExchange } from './recordingTransport.js';
import { replayCassette } from './replayCassette.js';

/** What {@link recordWindow} needs. */
export interface RecordInput {
  /** The source as defined; its `base_url` is what the cassette names. */
  readonly source: SourceDefinition;
  readonly stream: StreamDefinition;
  readonly window: TimeWindow;
  /** The real secrets. Share one across windows, so a rotated refresh token carries over. */
  readonly secrets: SecretProvider;
  /** Where the live run lands (a scratch lake). */
  readonly storage: LakeStorage;
  /** Where the check replay lands (another scratch lake). */
  readonly replayStorage: LakeStorage;
  /** Record from this server instead of `base_url` (a staging API, a local simulation); the cassette still names `base_url`. */
  readonly baseUrl?: string;
  /** Ask this token endpoint instead of `auth.token_url` (a staging or simulated identity server); the cassette still names `token_url`. */
  readonly tokenUrl?: string;
  /**
   * Record from a server standing in for an origin of `redirects.allowed_origins` (the file store
   * a job's result links to): `[origin, server]` pairs; the cassette still names the origin.
   */
  readonly origins?: readonly (readonly [string, string])[];
  /** Masks what the run prints; every value the recording learns is added to it. */
  readonly redactor?: Redactor;
  /** @default node:http */
  readonly transport?: Transport;
  readonly signal?: AbortSignal;
}

/** How a recording went. */
export interface RecordOutcome {
  readonly result: WindowResult;
  /** The cassette, when the window committed and its replay checked out. */
  readonly cassette?: Cassette;
  /** Its stored bytes. */
  readonly bytes?: Buffer;
  /** Why no cassette came of a committed window, one line each. */
  readonly problems: readonly string[];
  /** Response bodies the masking (or the move from the recording server to `base_url`) changed. */
  readonly maskedBodies: number;
  /** Whether the masking changed records: the cassette expects them as they replay, masked. */
  readonly recordsMasked: boolean;
}

/** Records one window. Never throws for a failed window: the result says why. */
export async function recordWindow(input: RecordInput): Promise<RecordOutcome> {
  const { source, stream, window } = input;
  const live = liveSource(source, input);
  const secrets = new RecordingSecretProvider(input.secrets);
  const redactor = input.redactor ?? new Redactor();
  const recording = recordingTransport(input.transport ?? nodeTransport());
  const client = await createSourceClient(live, secrets, { transport: recording.transport, redactor, isolatedTokens: true });
  const result = await runWindow({ source: live, stream: liveStream(stream, input.origins), window, client, storage: input.storage, ...(input.signal ? { signal: input.signal } : {}) });
  if (result.status !== 'committed') return { result, problems: [], maskedBodies: 0, recordsMasked: false };

  const landed = await landedResult(input.storage, result.manifestKey);
  const secretName = authSecretName(source);
  const masker = maskerFor(source, secretName ? secrets.firstReads.get(secretName) : undefined);
  masker.addValues(redactor.secretValues());
  const rebase = rebaser([...(input.origins ?? []).map(([origin, server]) => [server, origin] as const), [input.tokenUrl, tokenUrlOf(source)], [input.baseUrl, source.base_url]]);
  const plain = recording.exchanges.map((exchange) => plainInteraction(exchange, rebase));
  for (const { request, response } of plain) {
    masker.learnRequest(request);
    if (response) masker.learnResponse(response, request);
  }
  const interactions = plain.map(({ request, response, error }): CassetteInteraction => {
    const masked = masker.maskRequest(request);
    const maskedResponse = response && masker.maskResponse(response);
    return {
      request: masked,
      ...(response && maskedResponse
        ? {
            response: {
              status: response.status,
              headers: maskedResponse.headers.map(([n, v]) => [n, v] as [string, string]),
              ...(maskedResponse.body !== undefined ? { body: maskedResponse.body } : storedBody(response.bytes)),
              ...(response.error ? { error: { ...response.error, message: masker.maskText(response.error.message, 'issued') } } : {}),
            },
          }
        : {}),
      ...(error ? { error: { ...error, message: masker.maskText(error.message, 'issued') } } : {}),
    };
  });
  const maskedBodies = masker.changedBodies + plain.filter((p) => p.rebased).length;
  let cassette: Cassette = {
    format: CASSETTE_FORMAT,
    source: source.name,
    stream: stream.name,
    window: { start: isoSeconds(window.start), end: isoSeconds(window.end) },
    recorded_at: new Date().toISOString(),
    secrets: secretName ? { [secretName]: masker.secret } : {},
    interactions,
    expected: landed,
  };
  // The last line of defence: no value the run knew as a credential, in any spelling, is written.
  if (redactor.contains(JSON.stringify(cassette))) {
    return { result, problems: ['the cassette still holds a credential after masking (name its header or JMESPath in cassettes.redact); nothing was written'], maskedBodies: 0, recordsMasked: false };
  }

  const replay = await replayCassette({ source, cassette, storage: input.replayStorage });
  if (replay.requestProblems.length > 0 || !replay.landed) return { result, problems: ['the cassette does not replay:', ...replay.requestProblems], maskedBodies, recordsMasked: false };
  const differences = compareResults(landed, replay.landed);
  if (differences.length > 0 && maskedBodies === 0) {
    return {
      result,
      problems: ['the cassette replays to other records than the live run landed (a request that differs on every run? see cassettes.ignore):', ...differences],
      maskedBodies,
      recordsMasked: false,
    };
  }
  // Masked bodies land masked records on replay: that is what the cassette pins.
  cassette = { ...cassette, expected: replay.landed };
  return { result, cassette, bytes: serializeCassette(cassette), problems: [], maskedBodies, recordsMasked: differences.length > 0 };
}

interface PlainInteraction {
  readonly request: { method: string; url: string; headers: Record<string, string>; body?: string };
  readonly response?: {
    readonly status: number;
    readonly headers: [string, string][];
    /** The body as text when it is UTF-8, for masking; `bytes` otherwise. */
    readonly body: string | undefined;
    readonly bytes: Buffer;
    readonly error?: { code?: string; message: string };
  };
  readonly error?: { code?: string; message: string };
  /** Whether the response body named the recording server, now `base_url`. */
  readonly rebased: boolean;
}

function plainInteraction(exchange: RecordedExchange, rebase: (text: string) => string): PlainInteraction {
  const { request, response, error } = exchange;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name] = rebase(value);
  const plainRequest = { method: request.method, url: rebase(request.url), headers, ...(request.body !== undefined ? { body: rebase(request.body) } : {}) };
  if (!response) return { request: plainRequest, ...(error ? { error } : {}), rebased: false };
  const bytes = Buffer.concat(response.chunks);
  const stored = storedBody(bytes);
  const text = stored.base64 ? undefined : stored.body;
  const body = text === undefined ? undefined : rebase(text);
  return {
    request: plainRequest,
    response: {
      status: response.status,
      headers: response.headers.map(([n, v]) => [n, rebase(v)] as [string, string]),
      body,
      bytes,
      ...(response.error ? { error: response.error } : {}),
    },
    rebased: body !== text,
  };
}

/** The source as recorded: its base URL and token endpoint replaced by the recording servers'. */
function liveSource(source: SourceDefinition, input: RecordInput): SourceDefinition {
  // Replacing it would write "{auth.instance_url}" where the token answer names the instance, and replay could not follow it.
  if (input.baseUrl !== undefined && authBaseUrlField(source.base_url) !== undefined) {
    throw new InputError(
      `the base_url of source "${source.name}" (${source.base_url}) is issued with the token: record without a base URL to record from; the requests go where the token answer says`,
    );
  }
  const withBase = input.baseUrl ? { ...source, base_url: input.baseUrl } : source;
  const withOrigins = input.origins ? { ...withBase, redirects: { ...withBase.redirects, allowed_origins: withBase.redirects.allowed_origins.map((o) => servedBy(input.origins!, o)) } } : withBase;
  for (const [origin] of input.origins ?? []) {
    if (!source.redirects.allowed_origins.includes(origin) && !jobDownloadOrigins(source).includes(origin)) {
      throw new InputError(
        `${origin} is neither one of redirects.allowed_origins of source "${source.name}" (${source.redirects.allowed_origins.join(', ') || 'none'}) nor a job's download.base_url: only such an origin can be recorded from another server`,
      );
    }
  }
  const { auth } = withOrigins;
  if (input.tokenUrl === undefined) return withOrigins;
  if (!('token_url' in auth)) throw new InputError(`a token URL to record from was given, but auth type "${auth.type}" of source "${source.name}" asks no token endpoint`);
  return { ...withOrigins, auth: { ...auth, token_url: input.tokenUrl } };
}

/** The origins job streams download from (`job.download.base_url`: a file host of its own, such as Stripe's). */
function jobDownloadOrigins(source: SourceDefinition): string[] {
  return source.streams.flatMap((s) => (s.job?.download.base_url ? [new URL(s.job.download.base_url).origin] : []));
}

/** The stream as recorded: a job's download host replaced by the server standing in for it. */
function liveStream(stream: StreamDefinition, origins: RecordInput['origins']): StreamDefinition {
  const base = stream.job?.download.base_url;
  if (!stream.job || base === undefined || !origins) return stream;
  const url = new URL(base);
  const server = servedBy(origins, url.origin);
  if (server === url.origin) return stream;
  return { ...stream, job: { ...stream.job, download: { ...stream.job.download, base_url: `${server}${url.pathname.replace(/\/$/, '')}` } } };
}

function servedBy(origins: readonly (readonly [string, string])[], origin: string): string {
  return origins.find(([named]) => named === origin)?.[1] ?? origin;
}

function tokenUrlOf(source: SourceDefinition): string | undefined {
  return 'token_url' in source.auth ? source.auth.token_url : undefined;
}

/**
 * Replaces each recording server's URL by the source's, also as JSON writes it with escaped
 * slashes; the first pair first, so a token endpoint under the recording base URL is replaced whole.
 */
function rebaser(pairs: readonly (readonly [string | undefined, string | undefined])[]): (text: string) => string {
  const escape = (s: string) => s.replaceAll('/', '\\/');
  const replacements = pairs.flatMap(([from, to]) => {
    if (!from || to === undefined) return [];
    const a = from.replace(/\/+$/, '');
    const b = to.replace(/\/+$/, '');
    return a === b ? [] : [[a, b] as const, [escape(a), escape(b)] as const];
  });
  return (text) => replacements.reduce((out, [a, b]) => out.replaceAll(a, b), text);
}
