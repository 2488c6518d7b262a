/** Makes the lake queryable at once: a Glue table per stream with partition projection, and an Athena workgroup. */

import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  athenaLatestView,
  CURATED_SYMLINKS,
  curatedGlueColumns,
  type GlueColumn,
  type GlueTableColumns,
  type LakeArea,
  landedStreams,
  RAW_SYMLINKS,
  rawGlueColumns,
  type SourceDefinition,
  streamPrefix,
  tableSpec,
} from '../../functions/index.js';
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

/**
 * Parquet files read through their symlink files, the way Delta Lake and Iceberg expose Parquet
 * snapshots to engines without native support (apache/iceberg#4401: ParquetHiveSerDe "STORED AS
 * INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'").
 */
export const SYMLINKED_PARQUET = new glue.DataFormat({
  inputFormat: new glue.InputFormat('org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'),
  outputFormat: glue.OutputFormat.HIVE_IGNORE_KEY_TEXT,
  serializationLibrary: glue.SerializationLibrary.PARQUET,
});

/**
 * Per stream: `<source>_<stream>` (typed Parquet), `<source>_<stream>_raw` (the JSON lines, for
 * forensics), and `<source>_<stream>_latest` (a view, when the stream has a primary key); all
 * read only committed windows through symlink files. And the Athena workgroup.
 */
export class Analytics extends Construct {
  readonly database: glue.Database;
  /** The Parquet table and the raw table of each stream, by table name. */
  readonly tables: Map<string, glue.S3Table> = new Map();
  /** The `_latest` views, by view name. */
  readonly views: Map<string, glue.CfnTable> = new Map();
  readonly workGroup: athena.CfnWorkGroup;
  readonly results: s3.Bucket;

  constructor(scope: Construct, id: string, props: AnalyticsProps) {
    super(scope, id);
    this.database = new glue.Database(this, 'Database', { databaseName: props.databaseName, description: 'apilake: typed, raw and latest tables per source stream' });

    for (const source of props.sources) {
      for (const stream of landedStreams(source)) {
        const spec = tableSpec(source, stream);
        const description = `${source.name}.${stream.name}: ${source.description ?? source.base_url}`;
        const table = (tableId: string, columns: GlueTableColumns, area: LakeArea, dataFormat: glue.DataFormat, what: string) => {
          const prefix = streamPrefix(area, source.name, stream.name);
          const created = new glue.S3Table(this, tableId, {
            database: this.database,
            tableName: columns.name,
            description: `${description} (${what})`,
            storage: glue.S3TableStorage.fromBucket(props.lake.bucket),
            s3Prefix: prefix,
            dataFormat,
            compressed: area === RAW_SYMLINKS,
            // Not client-side encrypted: S3 decrypts SSE-S3 objects transparently for Athena.
            hasEncryptedData: false,
            columns: columns.columns.map(glueColumn),
            partitionKeys: columns.partitionKeys.map(glueColumn),
            partitionProjection: {
              dt: glue.PartitionProjectionConfiguration.date({ min: props.projectionStartDate ?? '2020-01-01', max: 'NOW', format: 'yyyy-MM-dd' }),
            },
            parameters: {
              // Projection computes each partition's location (a folder of symlink files) instead of listing the catalog.
              'storage.location.template': `s3://${props.lake.bucket.bucketName}/${prefix}dt=\${dt}/`,
            },
          });
          this.tables.set(columns.name, created);
        };
        // The construct id of the main table is the one it always had: ids are part of the contract.
        table(`Table-${spec.name}`, curatedGlueColumns(spec), CURATED_SYMLINKS, SYMLINKED_PARQUET, 'typed, Parquet');
        table(`RawTable-${spec.name}`, rawGlueColumns(spec), RAW_SYMLINKS, SYMLINKED_JSON, 'raw JSON lines, data as JSON text');
        // The database name is written into the view's encoding, so it must be the literal name.
        const view = athenaLatestView(spec, props.databaseName);
        if (view) {
          const cfn = new glue.CfnTable(this, `View-${spec.name}`, {
            catalogId: Stack.of(this).account,
            databaseName: this.database.databaseName,
            tableInput: {
              name: view.name,
              description: view.description,
              tableType: view.tableType,
              parameters: view.parameters,
              viewOriginalText: view.viewOriginalText,
              viewExpandedText: view.viewExpandedText,
              storageDescriptor: { columns: view.storageDescriptor.columns, serdeInfo: {} },
            },
          });
          this.views.set(view.name, cfn);
        }
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

/** A Glue column as CDK takes it. */
function glueColumn(column: GlueColumn): glue.Column {
  return { name: column.name, type: { inputString: column.type, isPrimitive: column.isPrimitive }, comment: column.comment };
}
