/**
 * The S3 client's HTTP handler: every attempt fails once its socket has neither sent nor received
 * a byte for the idle timeout, and a request body is written in small chunks so that "a byte
 * sent" means the link is moving.
 *
 * Node refreshes a socket's idle timer when a write completes, not while it progresses. The SDK
 * writes a buffered body (a multipart chunk of 8 MiB) as one write, which completes only once the
 * whole chunk has left: on a 100 KB/s link that is 80 s with the timer standing still, and an idle
 * timeout shorter than that would cut a healthy upload. Written in 64 KiB chunks, the timer moves
 * with every chunk the link takes, so only a real stall trips it.
 */

import { Readable } from 'node:stream';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { S3Timeouts } from './s3Timeouts.js';

type HttpRequest = Parameters<NodeHttpHandler['handle']>[0];
type HttpHandlerOptions = Parameters<NodeHttpHandler['handle']>[1];

/** Size of each write of a request body. */
export const BODY_CHUNK_BYTES = 64 * 1024;

/**
 * The request with a buffered body larger than `chunkBytes` replaced by a stream of the same
 * bytes in chunks of at most `chunkBytes`; any other request as it is. A new object each time:
 * the SDK retries an attempt with the same request, whose buffer must stay untouched.
 */
export function withChunkedBody<T extends { body?: unknown }>(request: T, chunkBytes = BODY_CHUNK_BYTES): T {
  const body = request.body;
  if (!(body instanceof Uint8Array) || body.byteLength <= chunkBytes) return request;
  const chunks = function* () {
    for (let offset = 0; offset < body.byteLength; offset += chunkBytes) yield body.subarray(offset, offset + chunkBytes);
  };
  const copy = Object.assign(Object.create(Object.getPrototypeOf(request) as object) as T, request);
  copy.body = Readable.from(chunks(), { objectMode: false });
  return copy;
}

/** A NodeHttpHandler with connection and idle timeouts that writes request bodies in chunks. */
export class IdleTimeoutHttpHandler extends NodeHttpHandler {
  /** @param timeouts of each attempt; kept for the messages that report a stall */
  constructor(readonly timeouts: S3Timeouts) {
    // socketTimeout is the SDK's idle timeout (socket.setTimeout). requestTimeout would bound the
    // time until the response starts, the whole upload of the body included, which a large part
    // on a slow link may rightly exceed.
    super({ connectionTimeout: timeouts.connectMs, socketTimeout: timeouts.idleMs });
  }

  override handle(request: HttpRequest, options?: HttpHandlerOptions): ReturnType<NodeHttpHandler['handle']> {
    return super.handle(withChunkedBody(request), options);
  }
}
