/**
 * A transport that answers from a cassette and never touches the network. Each request is put
 * in the cassette's form (secrets masked as the recording masked them) and matched exactly, less
 * the query parameters and headers the source lets differ, against the recorded requests not yet
 * answered; a request sent again gets the next recording of it (a retry after a 429 gets what
 * followed the 429). A request the cassette does not hold fails, naming it and how it differs
 * from the nearest recorded one.
 */

import { setImmediate as nextTurn } from 'node:timers/promises';
import { CassetteMismatchError } from '../errors.js';
import type { Redactor } from '../http/redact.js';
import { bodyText, type ResponseHeaders, type Transport, type TransportRequest, type TransportResponse } from '../http/Transport.js';
import { bodyBytes, type Cassette, type CassetteFailure, type CassetteInteraction } from './cassette.js';
import type { Masker, MaskableRequest } from './Masker.js';
import { describeDifferences, likeness, matchKey, type IgnoreRules } from './requestDiff.js';

/** Bytes of a body handed to the client at a time, as a socket would. */
const CHUNK_BYTES = 64 * 1024;

/** Answers a window's requests from its cassette. */
export class Replayer {
  /** Why each unmatched request failed, once per distinct request. */
  readonly mismatches: string[] = [];
  private readonly used: boolean[];
  private readonly keys: string[];

  /**
   * @param redactor the replay client's: values it learns at run time (a signed assertion) are masked as the recording's were
   */
  constructor(
    private readonly cassette: Cassette,
    private readonly masker: Masker,
    private readonly redactor: Redactor,
    private readonly ignore: IgnoreRules,
  ) {
    this.used = cassette.interactions.map(() => false);
    this.keys = cassette.interactions.map((i) => matchKey(i.request, ignore));
  }

  /** The transport to give the replay client. */
  readonly transport: Transport = (request) => new Promise((resolve) => resolve(this.respond(request)));

  private respond(request: TransportRequest): TransportResponse {
    if (request.signal.aborted) throw request.signal.reason;
    const sent = this.canonical(request);
    const key = matchKey(sent, this.ignore);
    const index = this.keys.findIndex((k, i) => !this.used[i] && k === key);
    if (index < 0) {
      const message = this.describeMiss(sent, key);
      if (!this.mismatches.includes(message)) this.mismatches.push(message);
      throw new CassetteMismatchError(message);
    }
    this.used[index] = true;
    return answer(this.cassette.interactions[index]!, request.signal);
  }

  /** The recorded requests no replayed request asked for, one line each. */
  unused(): string[] {
    return this.cassette.interactions.flatMap((interaction, i) =>
      this.used[i]
        ? []
        : [`recorded request #${i + 1} was not sent: ${interaction.request.method} ${interaction.request.url}${interaction.response ? ` (answered ${interaction.response.status})` : ''}`],
    );
  }

  private canonical(request: TransportRequest): MaskableRequest {
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => (headers[name] = value));
    const plain: MaskableRequest = { method: request.method, url: request.url.href, headers, ...(request.body !== undefined ? { body: request.body } : {}) };
    this.masker.addValues(this.redactor.secretValues());
    this.masker.learnRequest(plain);
    return this.masker.maskRequest(plain);
  }

  private describeMiss(sent: MaskableRequest, key: string): string {
    const what = `${sent.method} ${sent.url}`;
    const recordedTimes = this.keys.filter((k) => k === key).length;
    if (recordedTimes > 0) {
      return `request not in the cassette: ${what} was sent more often than recorded (${recordedTimes} time${recordedTimes === 1 ? '' : 's'}): an extra page, or a retry the recording did not make`;
    }
    const candidates = this.cassette.interactions.map((interaction, i) => ({ interaction, i, score: likeness(interaction.request, sent) + (this.used[i] ? 0 : 0.5) }));
    const nearest = candidates.reduce<(typeof candidates)[number] | undefined>((best, c) => (c.score > (best?.score ?? 0) ? c : best), undefined);
    if (!nearest) return `request not in the cassette: ${what} (the cassette holds no ${sent.method} request)`;
    const differences = describeDifferences(nearest.interaction.request, sent, this.ignore);
    return `request not in the cassette: ${what}; nearest recorded request #${nearest.i + 1} differs in ${differences.join('; ')}`;
  }
}

/** A recorded response, served as the node:http transport serves one: decoded body in chunks, BOM kept in the stream. */
function answer(interaction: CassetteInteraction, signal: AbortSignal): TransportResponse {
  const { response } = interaction;
  if (!response) throw failure(interaction.error ?? { message: 'no response was recorded' });
  const bytes = bodyBytes(response);
  async function* body(): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
      // Each chunk on a turn of its own, as a socket delivers them: an abort between two is seen.
      await nextTurn();
      if (signal.aborted) throw signal.reason;
      yield bytes.subarray(at, at + CHUNK_BYTES);
    }
    if (response!.error) throw failure(response!.error);
  }
  const stream = body();
  return {
    status: response.status,
    headers: new RecordedHeaders(response.headers),
    body: stream,
    text: () => bodyText(stream),
    discard: () => void stream.return(undefined),
  };
}

/** The recorded network failure, with its code, as the transport raised it. */
function failure(recorded: CassetteFailure): Error {
  return Object.assign(new Error(recorded.message), recorded.code ? { code: recorded.code } : {});
}

/** Recorded header lines read as the transports read theirs: case-insensitive, repeats joined with ", ". */
class RecordedHeaders implements ResponseHeaders {
  constructor(private readonly lines: readonly (readonly [string, string])[]) {}

  get(name: string): string | null {
    const wanted = name.toLowerCase();
    const values = this.lines.filter(([n]) => n.toLowerCase() === wanted).map(([, v]) => v);
    return values.length === 0 ? null : values.join(', ');
  }

  *entries(): IterableIterator<[string, string]> {
    for (const [name, value] of this.lines) yield [name, value];
  }
}
