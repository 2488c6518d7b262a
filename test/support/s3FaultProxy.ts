/**
 * A fault-injecting proxy in front of a local S3 server (moto). It forwards every request
 * unchanged and, when a rule matches, does what real S3 and real networks do:
 * - `status`: answers 500 InternalError or 503 SlowDown without forwarding (S3 asks clients to
 *   retry both: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html);
 * - `drop-before`: closes the connection without forwarding (a reset before S3 saw the request);
 * - `drop-after`: forwards, lets S3 apply the request, then closes the connection without
 *   answering — the response is lost after the server applied the write;
 * - `stall`: forwards nothing and never answers, until the client gives up;
 * - `stall-after`: forwards, lets S3 apply the request, then never answers — a write applied
 *   whose response is lost to a stall rather than to a reset;
 * - `stall-body`: forwards, sends S3's status, headers and the first half of its body, then
 *   nothing more — a download that stops mid-body;
 * - `slow-body`: forwards, then sends S3's body in 20 pieces spread over `ms` — a slow link
 *   that keeps moving.
 *
 * With `denyMissingKeys`, it also imitates what no local server does: real S3 answers a GET or
 * HEAD of a key that does not exist with 403 AccessDenied, not 404, when the caller lacks
 * s3:ListBucket for the request — and a ListBucket grant conditioned on `s3:prefix` never
 * applies to a GetObject request, which carries no prefix. GetObject API reference, Permissions:
 * "If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status code 403
 * (access denied) error." https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 *
 * It also keeps S3's clock, which moto does not: it dates each object by when its write passed
 * through (a completed multipart object by when its upload was initiated, the earlier of the two
 * dates S3 could give it and so the harsher one for garbage collection) and each multipart upload
 * by when it was initiated, and shows those dates in listings. moto lists every unfinished upload
 * as initiated on 2010-11-10, where S3 gives "the date and time at which the multipart upload was
 * initiated" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_MultipartUpload.html).
 * `advanceClock` moves this clock forward, so what is stored ages as if hours passed at S3.
 */

import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './listenOnLoopback.js';

/** The S3 operation a request is, by method and query (path-style requests). */
export type S3Operation =
  | 'PutObject'
  | 'UploadPart'
  | 'CreateMultipartUpload'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'GetObject'
  | 'HeadObject'
  | 'ListObjectsV2'
  | 'ListMultipartUploads'
  | 'DeleteObjects'
  | 'DeleteObject'
  | 'Other';

/** A request as the proxy classifies it. */
export interface S3Call {
  readonly operation: S3Operation;
  readonly bucket: string;
  /** The object key, decoded; '' for bucket-level operations. */
  readonly key: string;
  /** The `prefix` of a listing. */
  readonly prefix: string;
}

/** What to do to a matching request. */
export type S3Fault =
  | { readonly kind: 'status'; readonly status: 500 | 503 }
  | { readonly kind: 'drop-before' }
  | { readonly kind: 'drop-after' }
  | { readonly kind: 'stall' }
  | { readonly kind: 'stall-after' }
  | { readonly kind: 'stall-body' }
  | { readonly kind: 'slow-body'; readonly ms: number };

/** A fault applied to the next `times` requests that `match`, after letting `skip` of them through. */
export interface S3FaultRule {
  readonly match: (call: S3Call) => boolean;
  readonly fault: S3Fault;
  times: number;
  /** Matching requests to forward unharmed first, to strike at a chosen point of a run. @default 0 */
  skip?: number;
  /** Free text for reports. */
  readonly label?: string;
}

/** A running proxy. */
export interface S3FaultProxy {
  /** `http://127.0.0.1:<port>`: point S3 clients here. */
  readonly endpoint: string;
  /** Every request seen, in order, with the fault applied to it if any. */
  readonly calls: (S3Call & { readonly fault?: S3Fault['kind'] })[];
  /** Adds a rule; rules are tried in the order added. */
  inject(rule: Omit<S3FaultRule, 'times'> & { times?: number }): void;
  /** Removes every rule not yet used up. */
  clear(): void;
  /** Faults injected so far. */
  faultsInjected(): number;
  /** Answers 403 for a missing key, as S3 does to a caller without s3:ListBucket. */
  denyMissingKeys(on: boolean): void;
  /** Moves S3's clock forward: everything stored so far looks `ms` older to what is written next. */
  advanceClock(ms: number): void;
  close(): Promise<void>;
}

/** Classifies a path-style S3 request. */
export function classify(method: string, url: URL): S3Call {
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const key = decodeURIComponent(rest.join('/'));
  const q = url.searchParams;
  const prefix = q.get('prefix') ?? '';
  const op = (operation: S3Operation): S3Call => ({ operation, bucket, key, prefix });
  if (method === 'PUT' && key) return op(q.has('partNumber') && q.has('uploadId') ? 'UploadPart' : 'PutObject');
  if (method === 'POST' && key && q.has('uploads')) return op('CreateMultipartUpload');
  if (method === 'POST' && key && q.has('uploadId')) return op('CompleteMultipartUpload');
  if (method === 'POST' && !key && q.has('delete')) return op('DeleteObjects');
  if (method === 'DELETE' && key && q.has('uploadId')) return op('AbortMultipartUpload');
  if (method === 'DELETE' && key) return op('DeleteObject');
  if (method === 'GET' && key) return op('GetObject');
  if (method === 'HEAD' && key) return op('HeadObject');
  if (method === 'GET' && !key && q.has('uploads')) return op('ListMultipartUploads');
  if (method === 'GET' && !key && q.get('list-type') === '2') return op('ListObjectsV2');
  return op('Other');
}

const ACCESS_DENIED = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
const ERROR_BODY = (status: 500 | 503) =>
  status === 503
    ? '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>'
    : '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>';

/** Starts a proxy on a free loopback port in front of `upstream` (e.g. moto's endpoint). */
export async function startS3FaultProxy(upstream: string): Promise<S3FaultProxy> {
  const target = new URL(upstream);
  const rules: S3FaultRule[] = [];
  const calls: (S3Call & { fault?: S3Fault['kind'] })[] = [];
  let denyMissing = false;
  let faults = 0;
  let clockOffsetMs = 0;
  // Real time, whatever a test does to Date in this process (a faked clock is the client's, never S3's).
  const s3Now = () => new Date(performance.timeOrigin + performance.now() + clockOffsetMs);
  /** When S3 wrote each object (`bucket/key`) and initiated each upload (by id), by this proxy's clock. */
  const written = new Map<string, Date>();
  const initiated = new Map<string, Date>();

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const call = classify(req.method ?? 'GET', url);
    let rule = rules.find((r) => r.times > 0 && r.match(call));
    if (rule?.skip) {
      rule.skip--;
      rule = undefined;
    }
    if (rule) {
      rule.times--;
      faults++;
    }
    calls.push({ ...call, ...(rule ? { fault: rule.fault.kind } : {}) });
    const fault = rule?.fault;
    if (fault?.kind === 'stall') {
      req.resume(); // read the body so the client keeps waiting on the response, not on the upload
      return;
    }
    if (fault?.kind === 'drop-before') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      req.resume();
      req.on('end', () => {
        res.writeHead(fault.status, { 'content-type': 'application/xml' });
        res.end(ERROR_BODY(fault.status));
      });
      return;
    }
    forward(req, res, call, fault);
  });

  function forward(req: IncomingMessage, res: ServerResponse, call: S3Call, after?: S3Fault): void {
    const upstreamReq = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (upstreamRes) => {
      const chunks: Buffer[] = [];
      upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
      upstreamRes.on('end', () => {
        if (after?.kind === 'drop-after') {
          // The server applied the request; the client never learns it.
          req.socket.destroy();
          return;
        }
        if (after?.kind === 'stall-after') return; // applied, and the connection stays silent
        const status = upstreamRes.statusCode ?? 502;
        let body: Buffer = Buffer.concat(chunks);
        if (status >= 200 && status < 300) body = keepClock(call, new URL(req.url ?? '/', 'http://proxy'), body);
        if (after?.kind === 'stall-body') {
          res.writeHead(status, upstreamRes.headers);
          res.write(body.subarray(0, Math.floor(body.length / 2)));
          return; // the rest never comes
        }
        if (after?.kind === 'slow-body') {
          res.writeHead(status, upstreamRes.headers);
          const piece = Math.ceil(body.length / 20);
          let sent = 0;
          const timer = setInterval(() => {
            res.write(body.subarray(sent, sent + piece));
            sent += piece;
            if (sent < body.length) return;
            clearInterval(timer);
            res.end();
          }, after.ms / 20);
          res.on('close', () => clearInterval(timer));
          return;
        }
        if (denyMissing && status === 404 && (call.operation === 'GetObject' || call.operation === 'HeadObject')) {
          res.writeHead(403, { 'content-type': 'application/xml' });
          res.end(call.operation === 'HeadObject' ? undefined : ACCESS_DENIED);
          return;
        }
        res.writeHead(status, { ...upstreamRes.headers, ...(upstreamRes.headers['content-length'] ? { 'content-length': String(body.length) } : {}) });
        res.end(body);
      });
    });
    upstreamReq.on('error', () => req.socket.destroy());
    req.pipe(upstreamReq);
  }

  /** Records the dates of a write S3 applied, and shows the recorded dates in a listing. */
  function keepClock(call: S3Call, url: URL, body: Buffer): Buffer {
    const objectId = `${call.bucket}/${call.key}`;
    switch (call.operation) {
      case 'PutObject':
        written.set(objectId, s3Now());
        return body;
      case 'CreateMultipartUpload': {
        const id = /<UploadId>([^<]+)<\/UploadId>/.exec(body.toString('utf8'))?.[1];
        if (id) initiated.set(id, s3Now());
        return body;
      }
      case 'CompleteMultipartUpload':
        written.set(objectId, initiated.get(url.searchParams.get('uploadId') ?? '') ?? s3Now());
        return body;
      case 'ListObjectsV2':
        return rewrite(body, 'Contents', 'Key', 'LastModified', (key) => written.get(`${call.bucket}/${key}`));
      case 'ListMultipartUploads':
        return rewrite(body, 'Upload', 'UploadId', 'Initiated', (id) => initiated.get(id));
      default:
        return body;
    }
  }

  const { port, close } = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    inject: (rule) => rules.push({ ...rule, times: rule.times ?? 1 }),
    clear: () => rules.splice(0),
    faultsInjected: () => faults,
    denyMissingKeys: (on) => {
      denyMissing = on;
    },
    advanceClock: (ms) => {
      clockOffsetMs += ms;
    },
    close,
  };
}

/** In each `<element>` of a listing, replaces the text of `<dateTag>` with the date `dateOf` gives its `<idTag>`, if any. */
function rewrite(body: Buffer, element: string, idTag: string, dateTag: string, dateOf: (id: string) => Date | undefined): Buffer {
  const unescape = (text: string) =>
    text
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&');
  const xml = body.toString('utf8').replace(new RegExp(`<${element}>([\\s\\S]*?)</${element}>`, 'g'), (block: string) => {
    const id = new RegExp(`<${idTag}>([^<]*)</${idTag}>`).exec(block)?.[1];
    const date = id === undefined ? undefined : dateOf(unescape(id));
    return date ? block.replace(new RegExp(`<${dateTag}>[^<]*</${dateTag}>`), `<${dateTag}>${date.toISOString()}</${dateTag}>`) : block;
  });
  return Buffer.from(xml, 'utf8');
}
