/** The lake bucket: encrypted, SSL only, private, lifecycle-managed, access-logged. */

import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as iamLib from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { RAW_PREFIX, SOURCE_AREAS, streamPrefix } from '../../functions/index.js';
import { BACKFILL_PREFIX } from '../backfillLayout.js';

export { SOURCE_AREAS };

/** Properties of a {@link Lake}. */
export interface LakeProps {
  /**
   * Days after which raw parts move to S3 Standard-IA (Athena reads them at the same price per byte scanned).
   * @default 30
   */
  readonly infrequentAccessAfterDays?: number;
  /**
   * What happens to the bucket when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The S3 bucket every source lands in (the lake layout, docs/lake.md).
 *
 * @example
 * const lake = new Lake(this, 'Lake');
 * lake.grantWriteSource(fn, 'github_events');
 */
export class Lake extends Construct {
  readonly bucket: s3.Bucket;
  /** Receives the lake bucket's server access logs. */
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: LakeProps = {}) {
    super(scope, id);
    // S3 server access logs reach a bucket through a bucket policy for logging.s3.amazonaws.com
    // (scoped to the source bucket and account), the way AWS recommends, instead of the legacy
    // LogDeliveryWrite ACL, which needs ACLs enabled on the bucket. Set before the buckets are
    // made, so every bucket that logs to accessLogs (the Athena results' too) grants it so.
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
    // https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_s3.ObjectOwnership.html
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // ACLs disabled: the bucket owner owns every log object, and access is by policy alone.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the lake bucket access logs; logging it into itself would loop.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // Versioning off: a forced re-run lands new parts and deletes those of the commit it
      // replaced, as gc deletes the parts of dead runs; old versions would keep them billed.
      versioned: false,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'lake/',
      lifecycleRules: [
        {
          id: 'raw-to-infrequent-access',
          prefix: `${RAW_PREFIX}/`,
          transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(props.infrequentAccessAfterDays ?? 30) }],
        },
        // Backfills' window lists and map results: read while their execution runs (a year at most).
        { id: 'backfill-lists-expire', prefix: `${BACKFILL_PREFIX}/`, expiration: Duration.days(400) },
        // A function killed mid-upload cannot abort its multipart upload; S3 does it after a day.
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
    });
  }

  /**
   * Lets a source's function read, write and delete its own prefixes, and list only them.
   *
   * Least privilege that works on real S3: the ListBucket grant is conditioned on `s3:prefix`,
   * which only a listing request carries. A GetObject of a missing key under such a role answers
   * 403, not 404 (GetObject API reference, Permissions), so apilake never asks whether a window is
   * committed by reading a key that may be absent: it lists the window's commit prefix (allowed
   * here) and reads only keys the listing returned. Granting an unconditioned ListBucket instead
   * would let every source's function list every other source's data.
   * @returns the grant of the object permissions
   */
  grantWriteSource(grantee: iam.IGrantable, source: string): iam.Grant {
    const prefixes = SOURCE_AREAS.map((area) => streamPrefix(area, source));
    iamLib.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [this.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } },
    });
    return iamLib.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      resourceArns: prefixes.map((p) => this.bucket.arnForObjects(`${p}*`)),
    });
  }
}
