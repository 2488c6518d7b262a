import { describe, expect, it } from 'vitest';
import { awsOperation, billingClass } from '../../bench/awsRequests.js';
import { landingCost } from '../../bench/landingCost.js';

describe('awsOperation', () => {
  it.each([
    ['PUT', '/lake/raw/a.jsonl.gz', {}, 's3:PutObject'],
    ['PUT', '/lake/raw/a.jsonl.gz?partNumber=2&uploadId=u1', {}, 's3:UploadPart'],
    ['PUT', '/lake/b', { 'x-amz-copy-source': '/lake/a' }, 's3:CopyObject'],
    ['PUT', '/lake', {}, 's3:CreateBucket'],
    ['POST', '/lake/a?uploads', {}, 's3:CreateMultipartUpload'],
    ['POST', '/lake/a?uploadId=u1', {}, 's3:CompleteMultipartUpload'],
    ['POST', '/lake?delete', {}, 's3:DeleteObjects'],
    ['GET', '/lake?list-type=2&prefix=manifests%2F', {}, 's3:ListObjects'],
    ['GET', '/lake/?list-type=2', {}, 's3:ListObjects'],
    ['GET', '/lake?uploads&prefix=raw%2F', {}, 's3:ListMultipartUploads'],
    ['GET', '/lake/manifests/x.json', {}, 's3:GetObject'],
    ['HEAD', '/lake/manifests/x.json', {}, 's3:HeadObject'],
    ['DELETE', '/lake/raw/a.jsonl.gz', {}, 's3:DeleteObject'],
    ['DELETE', '/lake/raw/a.jsonl.gz?uploadId=u1', {}, 's3:AbortMultipartUpload'],
    ['POST', '/', { 'x-amz-target': 'DynamoDB_20120810.UpdateItem' }, 'dynamodb:UpdateItem'],
    ['POST', '/', { 'x-amz-target': 'DynamoDB_20120810.GetItem' }, 'dynamodb:GetItem'],
    ['POST', '/', { 'x-amz-target': 'secretsmanager.GetSecretValue' }, 'secretsmanager:GetSecretValue'],
  ])('names %s %s as its operation', (method, url, headers, operation) => {
    expect(awsOperation({ method, url, headers })).toBe(operation);
  });
});

describe('billingClass', () => {
  it.each([
    ['s3:PutObject', 's3-put'],
    ['s3:UploadPart', 's3-put'],
    ['s3:CompleteMultipartUpload', 's3-put'],
    ['s3:ListObjects', 's3-put'],
    ['s3:ListMultipartUploads', 's3-put'],
    ['s3:GetObject', 's3-get'],
    ['s3:HeadObject', 's3-get'],
    ['s3:DeleteObject', 's3-free'],
    ['s3:AbortMultipartUpload', 's3-free'],
    ['dynamodb:PutItem', 'dynamodb-write'],
    ['dynamodb:UpdateItem', 'dynamodb-write'],
    ['dynamodb:DeleteItem', 'dynamodb-write'],
    ['dynamodb:GetItem', 'dynamodb-read'],
    ['dynamodb:DescribeTable', 'other'],
    ['secretsmanager:GetSecretValue', 'secrets-manager'],
  ])('bills %s as %s', (operation, kind) => {
    expect(billingClass(operation)).toBe(kind);
  });
});

describe('landingCost', () => {
  const landing = {
    records: 10_000,
    recordBytes: 10_000_000,
    initMs: 100,
    handlerMs: 10_000,
    cpuMs: 1_000,
    requests: {
      's3:PutObject': 4,
      's3:ListObjects': 2,
      's3:GetObject': 3,
      's3:DeleteObject': 1,
      'dynamodb:UpdateItem': 10,
      'dynamodb:GetItem': 2,
      'secretsmanager:GetSecretValue': 1,
    },
  };

  it('prices a million records from one measured window at 512 MB on Arm', () => {
    const cost = landingCost(landing, { memoryMb: 512, architecture: 'arm64' });
    // 100 windows; 1769 / 512 = 3.455 slower CPU: 0.1 s × 3.455 + 10 s + 1 s × 2.455 = 12.80 s each.
    expect(cost.invocations).toBe(100);
    expect(cost.lambdaSeconds).toBeCloseTo(12.8006, 4);
    expect(cost.gbSeconds).toBeCloseTo(640.03, 2);
    expect(cost.requests).toEqual({ 's3-put': 600, 's3-get': 300, 's3-free': 100, 'dynamodb-write': 1000, 'dynamodb-read': 200, 'secrets-manager': 100, other: 0 });
    expect(cost.usd.lambdaDuration).toBeCloseTo(640.029296875 * 0.0000133334, 10);
    expect(cost.usd.lambdaRequests).toBeCloseTo(0.00002, 10);
    expect(cost.usd.s3).toBeCloseTo(600 * 0.000005 + 300 * 0.0000004, 10);
    expect(cost.usd.dynamodb).toBeCloseTo(1000 * 0.000000625 + 200 * 0.000000125, 12);
    expect(cost.usd.secretsManager).toBeCloseTo(100 * 0.000005, 12);
    expect(cost.usd.total).toBeCloseTo(cost.usd.lambdaDuration + cost.usd.lambdaRequests + cost.usd.s3 + cost.usd.dynamodb + cost.usd.secretsManager, 12);
    // AppFlow: a flow run per window, and the records' bytes (1e9 B in all) as data processed.
    expect(cost.usd.appflow).toBeCloseTo(100 * 0.001 + (1e9 / 2 ** 30) * 0.02, 10);
  });

  it('does not stretch CPU time at 1769 MB or more (a whole vCPU)', () => {
    const cost = landingCost(landing, { memoryMb: 3538, architecture: 'arm64' });
    expect(cost.lambdaSeconds).toBeCloseTo(10.1, 6);
  });

  it('fails if the function is not on Arm', () => {
    expect(() => landingCost(landing, { memoryMb: 512, architecture: 'x86_64' })).toThrow(/Arm prices only; the function is x86_64/);
  });

  it('fails if the landing has no records', () => {
    expect(() => landingCost({ ...landing, records: 0 }, { memoryMb: 512, architecture: 'arm64' })).toThrow(/0 records cannot be priced/);
  });
});
