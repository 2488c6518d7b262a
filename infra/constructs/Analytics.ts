/** Makes the lake queryable at once: a Glue table per stream with partition projection, and an Athena workgroup. */

import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { RAW_SYMLINKS, streamPrefix } from '../../functions/sink/lakeLayout.js';
import type { Lake } from './Lake.js';

/** Properties of {@link Analytics}. */
export interface AnalyticsProps {
  readonly lake: Lake;
  readonly sources: readonly SourceDefinition[];
  /** Glue database name (letters, digits, underscores). */
  readonly databaseName: string;
  readonly workGroupName: string;
  /**
   * First `dt` partition projected.
   * @default '2020-01-01'
   */
  readonly projectionStartDate?: string;
  /**
   * A query scanning more than this is cancelled.
   * @default Size.gibibytes(10)
   */
  readonly bytesScannedCutoffPerQuery?: Size;
  /**
   * Days query results are kept.
   * @default 30
   */
  readonly resultsRetentionDays?: number;
}

/** The envelope's columns (DESIGN.md 3.2); `data` is JSON text, as the OpenX SerDe returns nested objects for a string column. */
export const ENVELOPE_COLUMNS: glue.Column[] = [
  { name: '_source', type: glue.Schema.STRING, comment: 'source name' },
  { name: '_stream', type: glue.Schema.STRING, comment: 'stream name' },
  { name: '_window_start', type: glue.Schema.STRING, comment: 'window start, ISO 8601 UTC (inclusive)' },
  { name: '_window_end', type: glue.Schema.STRING, comment: 'window end, ISO 8601 UTC (exclusive)' },
  { name: '_extracted_at', type: glue.Schema.STRING, comment: 'when the page was received, ISO 8601 UTC' },
  { name: '_run_id', type: glue.Schema.STRING, comment: 'the run that landed the window' },
  { name: 'data', type: glue.Schema.STRING, comment: 'the record exactly as the API sent it, as JSON text' },
];

/**
 * Raw parts read through Hive symlink files: Athena reads only the data files a symlink lists,
 * one per committed window, never what lies in `raw/` (parts of runs in flight, crashed or
 * replaced). This is how Delta Lake exposes consistent snapshots to Presto and Athena
 * ("Presto and Athena to Delta Lake integration", docs.delta.io: a manifest is "a text file
 * containing the list of data files to read"; SymlinkTextInputFormat with the data's own SerDe),
 * and the listed gzip files are decompressed by their `.gz` extension.
 */
export const SYMLINKED_JSON = new glue.DataFormat({
  inputFormat: new glue.InputFormat('org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'),
  outputFormat: glue.OutputFormat.HIVE_IGNORE_KEY_TEXT,
  serializationLibrary: glue.SerializationLibrary.OPENX_JSON,
});

/** Glue database, one table per stream named `<source>_<stream>`, and the Athena workgroup. */
export class Analytics extends Construct {
  readonly database: glue.Database;
  readonly tables: Map<string, glue.S3Table> = new Map();
  readonly workGroup: athena.CfnWorkGroup;
  readonly results: s3.Bucket;

  constructor(scope: Construct, id: string, props: AnalyticsProps) {
    super(scope, id);
    this.database = new glue.Database(this, 'Database', { databaseName: props.databaseName, description: 'apilake: one table per source stream' });

    for (const source of props.sources) {
      for (const stream of source.streams) {
        const name = `${source.name}_${stream.name}`;
        const prefix = streamPrefix(RAW_SYMLINKS, source.name, stream.name);
        const table = new glue.S3Table(this, `Table-${name}`, {
          database: this.database,
          tableName: name,
          description: `${source.name}.${stream.name}: ${source.description ?? source.base_url}`,
          storage: glue.S3TableStorage.fromBucket(props.lake.bucket),
          s3Prefix: prefix,
          dataFormat: SYMLINKED_JSON,
          compressed: true,
          // Not client-side encrypted: S3 decrypts SSE-S3 objects transparently for Athena.
          hasEncryptedData: false,
          columns: ENVELOPE_COLUMNS,
          partitionKeys: [{ name: 'dt', type: glue.Schema.STRING, comment: 'UTC date of the window start' }],
          partitionProjection: {
            dt: glue.PartitionProjectionConfiguration.date({ min: props.projectionStartDate ?? '2020-01-01', max: 'NOW', format: 'yyyy-MM-dd' }),
          },
          parameters: {
            // Projection computes each partition's location (a folder of symlink files) instead of listing the catalog.
            'storage.location.template': `s3://${props.lake.bucket.bucketName}/${prefix}dt=\${dt}/`,
          },
        });
        this.tables.set(name, table);
      }
    }

    this.results = new s3.Bucket(this, 'Results', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsBucket: props.lake.accessLogs,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [{ expiration: Duration.days(props.resultsRetentionDays ?? 30) }],
      removalPolicy: RemovalPolicy.DESTROY,
      // Query results are scratch. CloudFormation cannot delete a bucket that holds objects, so
      // without emptying it first (a custom resource CDK adds) `cdk destroy` fails after any query.
      autoDeleteObjects: true,
    });
    // glue.Database defaults to RETAIN, and a retained `apilake_<stage>` would block the next
    // deploy of the stage; the catalog is re-created from the sources, the data stays in the lake.
    this.database.applyRemovalPolicy(RemovalPolicy.DESTROY);

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.workGroupName,
      description: 'apilake queries: encrypted results, capped scans',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: (props.bytesScannedCutoffPerQuery ?? Size.gibibytes(10)).toBytes(),
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.results.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
  }
}
