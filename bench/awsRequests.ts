/**
 * What an AWS API request on the wire is, and how AWS bills it: the counting proxy of the cost
 * scenario sees only HTTP (method, path-style URL, headers), so the operation is read from
 * there: JSON protocols (DynamoDB, Secrets Manager) name it in `X-Amz-Target`, S3's REST
 * protocol in the method, the path's depth and the query.
 */

/** How a request is billed. */
export type BillingClass =
  /** S3 Standard: PUT, COPY, POST, LIST. */
  | 's3-put'
  /** S3 Standard: GET, HEAD and the rest. */
  | 's3-get'
  /** S3: DELETE and multipart CANCEL, not billed. */
  | 's3-free'
  /** DynamoDB on demand: one write request unit (items under 1 KB). */
  | 'dynamodb-write'
  /** DynamoDB on demand: one read request unit (a strongly consistent read of an item under 4 KB). */
  | 'dynamodb-read'
  | 'secrets-manager'
  /** Not billed per request, or not an operation the landing should send (reported as such). */
  | 'other';

/** One request as the proxy saw it. */
export interface WireRequest {
  readonly method: string;
  /** Path and query, path-style (`/bucket/key?query`). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** The operation of `request`, e.g. `s3:PutObject`, `dynamodb:UpdateItem`, `secretsmanager:GetSecretValue`. */
export function awsOperation(request: WireRequest): string {
  const target = request.headers['x-amz-target'];
  if (typeof target === 'string') {
    const [service = '', operation = ''] = target.split('.');
    return `${service.startsWith('DynamoDB') ? 'dynamodb' : service.toLowerCase()}:${operation}`;
  }
  const url = new URL(request.url, 'http://proxy');
  const q = url.searchParams;
  const onBucket = url.pathname.split('/').filter(Boolean).length <= 1;
  switch (request.method) {
    case 'PUT':
      if (q.has('uploadId') && q.has('partNumber')) return 's3:UploadPart';
      if (request.headers['x-amz-copy-source']) return 's3:CopyObject';
      return onBucket ? 's3:CreateBucket' : 's3:PutObject';
    case 'POST':
      if (q.has('uploads')) return 's3:CreateMultipartUpload';
      if (q.has('uploadId')) return 's3:CompleteMultipartUpload';
      if (q.has('delete')) return 's3:DeleteObjects';
      return 's3:Post';
    case 'GET':
      if (onBucket) return q.has('uploads') ? 's3:ListMultipartUploads' : 's3:ListObjects';
      if (q.has('uploadId')) return 's3:ListParts';
      return 's3:GetObject';
    case 'HEAD':
      return onBucket ? 's3:HeadBucket' : 's3:HeadObject';
    case 'DELETE':
      return q.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject';
    default:
      return `s3:${request.method}`;
  }
}

const S3_PUT_CLASS = new Set([
  's3:PutObject',
  's3:UploadPart',
  's3:CopyObject',
  's3:CreateMultipartUpload',
  's3:CompleteMultipartUpload',
  's3:ListObjects',
  's3:ListMultipartUploads',
  's3:ListParts',
  's3:Post',
]);
const S3_FREE = new Set(['s3:DeleteObject', 's3:DeleteObjects', 's3:AbortMultipartUpload']);
const DYNAMODB_WRITES = new Set(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']);
const DYNAMODB_READS = new Set(['dynamodb:GetItem']);

/** How AWS bills one request of `operation` (as {@link awsOperation} names it). */
export function billingClass(operation: string): BillingClass {
  if (S3_PUT_CLASS.has(operation)) return 's3-put';
  if (S3_FREE.has(operation)) return 's3-free';
  if (operation === 's3:GetObject' || operation === 's3:HeadObject') return 's3-get';
  if (DYNAMODB_WRITES.has(operation)) return 'dynamodb-write';
  if (DYNAMODB_READS.has(operation)) return 'dynamodb-read';
  if (operation.startsWith('secretsmanager:')) return 'secrets-manager';
  return 'other';
}
