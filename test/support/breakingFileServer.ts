/**
 * A file host on loopback whose connections break mid-body at chosen offsets: the n-th response
 * sends the file up to `cuts[n]` and drops its socket. It serves byte ranges (RFC 9110 §14: a
 * `Range: bytes=<from>-` honoured with 206 and Content-Range when `If-Range` matches the current
 * validator, else 200 with the whole file) when `ranges` is on, may change the file between
 * requests, and may lie about the range it sends. Every request is kept with the bytes it was sent.
 */

import { createServer, type IncomingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import { listenOnLoopback } from './listenOnLoopback.js';

/** How a 206 lies. */
export type RangeLie =
  /** Content-Range starts 100 bytes before the offset asked for, and so does the body. */
  | 'start'
  /** Content-Range is right, and the body carries 100 bytes more than it names (sent in chunks, no Content-Length). */
  | 'overflow'
  /** Content-Range gives the file a length other than the one first declared. */
  | 'length';

/** Options of {@link startBreakingFileServer}. */
export interface BreakingFileOptions {
  /** The file for each request in turn, the last for every later one: more than one is a file that changes. */
  readonly versions: readonly Buffer[];
  readonly contentType: string;
  /** Absolute byte offsets at which the n-th response breaks; a response past the list is whole. */
  readonly cuts: readonly number[];
  /** Serve byte ranges: Accept-Ranges: bytes, and a strong ETag per version ("v<n>"). */
  readonly ranges?: boolean;
  /** The validator sent, which ranges are conditional on. @default etag */
  readonly validator?: 'etag' | 'last-modified' | 'weak-etag' | 'none';
  readonly lie?: RangeLie;
  /** Send Accept-Ranges on a 206 too (nginx sends it only on a 200 that could have been ranged). @default true */
  readonly partialAcceptRanges?: boolean;
  /** Repeat the validator on a 206, as RFC 9110 §15.3.7 asks of a host (some send none there). @default true */
  readonly partialValidators?: boolean;
  /** Sent with Content-Encoding: gzip (cuts count the encoded bytes); ranges then apply to the encoded bytes. */
  readonly gzipEncoded?: boolean;
  /**
   * Send a whole body in writes of this many bytes, each once the one before drained, and count
   * as sent only what was written before the client went away. @default one write, counted whole
   */
  readonly chunkBytes?: number;
}

/** One request the host answered. */
export interface FileRequest {
  readonly headers: IncomingHttpHeaders;
  readonly status: number;
  /** The offset the response started at. */
  readonly from: number;
  /** Body bytes written. */
  sent: number;
}

/** Starts the host; the file is at `${url}/file`. */
export async function startBreakingFileServer(options: BreakingFileOptions) {
  const requests: FileRequest[] = [];
  const server = createServer((req, res) => {
    const n = requests.length;
    const version = Math.min(n, options.versions.length - 1);
    const file = options.gzipEncoded ? gzipSync(options.versions[version]!) : options.versions[version]!;
    const validator = options.validator ?? 'etag';
    const etag = validator === 'etag' ? `"v${version}"` : validator === 'weak-etag' ? `W/"v${version}"` : undefined;
    const lastModified = validator === 'last-modified' ? new Date(Date.UTC(2024, 0, 1 + version)).toUTCString() : undefined;
    const current = etag ?? lastModified;
    const asked = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    const partial = options.ranges === true && asked !== null && (ifRange === undefined || ifRange === current);
    let from = partial ? Number(asked[1]) : 0;
    const headers: Record<string, string> = { 'content-type': options.contentType, ...(options.gzipEncoded ? { 'content-encoding': 'gzip' } : {}) };
    if (options.ranges && (!partial || options.partialAcceptRanges !== false)) headers['accept-ranges'] = 'bytes';
    const validators = !partial || options.partialValidators !== false;
    if (etag && validators) headers.etag = etag;
    if (lastModified && validators) headers['last-modified'] = lastModified;
    let end = file.length;
    if (partial) {
      if (options.lie === 'start') from = Math.max(0, from - 100);
      const total = options.lie === 'length' ? file.length + 1 : file.length;
      headers['content-range'] = `bytes ${from}-${total - 1}/${total}`;
      if (options.lie === 'overflow') end = file.length + 100;
      else headers['content-length'] = String(file.length - from);
    } else headers['content-length'] = String(file.length);
    res.writeHead(partial ? 206 : 200, headers);
    const body = Buffer.concat([file, Buffer.alloc(Math.max(0, end - file.length), 0x41)]).subarray(from, end);
    const cut = options.cuts[n];
    const record = (sent: number) => requests.push({ headers: req.headers, status: partial ? 206 : 200, from, sent });
    if (cut !== undefined && cut > from && cut < from + body.length) {
      record(cut - from);
      // The bytes before the cut leave, then the connection drops.
      res.write(body.subarray(0, cut - from), () => res.destroy());
      return;
    }
    if (options.chunkBytes === undefined) {
      record(body.length);
      res.end(body);
      return;
    }
    record(0);
    const seen = requests[requests.length - 1]!;
    const size = options.chunkBytes;
    let at = 0;
    const more = () => {
      while (at < body.length && !res.destroyed) {
        const piece = body.subarray(at, at + size);
        at += piece.length;
        seen.sent += piece.length;
        if (at >= body.length) {
          res.end(piece);
          return;
        }
        if (!res.write(piece)) {
          res.once('drain', more);
          return;
        }
      }
    };
    more();
  });
  const { port, close } = await listenOnLoopback(server);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    requests,
    /** Bytes sent again: everything written beyond one copy of the file (as sent). */
    resent: () => requests.reduce((n, r) => n + r.sent, 0) - (options.gzipEncoded ? gzipSync(options.versions[0]!) : options.versions[0]!).length,
    close,
  };
}

/** A running {@link startBreakingFileServer}. */
export type BreakingFileServer = Awaited<ReturnType<typeof startBreakingFileServer>>;
