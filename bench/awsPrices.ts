/**
 * Published AWS list prices in us-east-1 (USD), with the pages they were read from and the date
 * they were looked up. The cost scenario prices what it measured with these and nothing else;
 * when a price changes, change it here, with its page and date.
 */

/** When the prices below were looked up. */
export const PRICES_LOOKED_UP = '2026-12-06';

/** USD per unit, us-east-1. */
export const AWS_PRICES = {
  lambda: {
    /**
     * Arm (Graviton), first tier (7.5 billion GB-s a month). https://aws.amazon.com/lambda/pricing/ ;
     * https://cloudchipr.com/blog/aws-lambda-pricing (Arm: $0.0000133334 per GB-s, first 7.5 billion GB-s).
     */
    armPerGbSecond: 0.0000133334,
    /** $0.20 per million requests (both architectures). https://aws.amazon.com/lambda/pricing/ */
    perRequest: 0.2 / 1e6,
    /**
     * The INIT phase is billed like the handler's time for ZIP packages on managed runtimes since
     * 2025-08-01: https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/
     */
    initBilledSince: '2025-08-01',
    /**
     * At 1,769 MB a function has the equivalent of one vCPU; CPU is allotted in proportion to memory.
     * https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
     */
    mbPerVcpu: 1769,
  },
  s3: {
    /** S3 Standard: PUT, COPY, POST, LIST $0.005 per 1,000. https://aws.amazon.com/s3/pricing/ ; https://c3x.dev/blog/s3-request-fees-explained */
    putCopyPostListPerRequest: 0.005 / 1000,
    /** S3 Standard: GET, SELECT and all other requests (HEAD) $0.0004 per 1,000; DELETE and CANCEL are free. Same pages. */
    getPerRequest: 0.0004 / 1000,
  },
  dynamodb: {
    /**
     * On-demand, from 2024-11-01: $0.625 per million write request units, $0.125 per million read
     * request units. https://aws.amazon.com/dynamodb/pricing/on-demand/ ;
     * https://airbyte.com/data-engineering-resources/dynamodb-pricing ;
     * https://www.jusdb.com/blog/dynamodb-cost-optimization-a-comprehensive-guide-by-jusdb
     */
    perWriteUnit: 0.625 / 1e6,
    perReadUnit: 0.125 / 1e6,
  },
  secretsManager: {
    /** $0.05 per 10,000 API calls ($0.40 per secret a month besides, not per landing). https://aws.amazon.com/secrets-manager/pricing/ ; https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms */
    perCall: 0.05 / 10_000,
  },
  appflow: {
    /**
     * $0.001 per successful flow run and $0.02 per GB of data processed, as published on
     * https://aws.amazon.com/appflow/pricing/ (the page itself was not among the stored pages
     * searched on the date above; check it there). A flow run carries at most 100 GB:
     * https://tutorialsdojo.com/amazon-appflow
     */
    perFlowRun: 0.001,
    perGbProcessed: 0.02,
  },
} as const;
