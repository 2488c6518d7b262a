/**
 * Athena views as Glue tables, so they deploy with the stack (CloudFormation `AWS::Glue::Table`)
 * instead of by a `CREATE VIEW` query at run time. Athena stores a view the way Trino's Hive
 * connector does: a `VIRTUAL_VIEW` table with parameter `presto_view=true`, whose
 * `ViewOriginalText` is `/* Presto View: <base64 of JSON> *\/` holding `originalSql`, `catalog`,
 * `schema` and the output `columns` (Presto type names); the Glue columns repeat them in Hive
 * types. References: Trino `HiveViewCodec` / `ViewReaderUtil` (VIEW_PREFIX "/* Presto View: ",
 * VIEW_SUFFIX " *\/", flag "presto_view"; trinodb/trino, plugin/trino-hive), and the widely used
 * reverse-engineering of Athena's encoding (stackoverflow.com/a/56347331, "Create Athena view with
 * CloudFormation"). Athena's Glue catalog is named `awsdatacatalog` in view definitions.
 */

import { ApilakeError } from '../errors.js';
import type { ColumnType } from '../config/columnType.js';
import { glueType, trinoType } from './columnSpellings.js';

const PREFIX = '/* Presto View: ';
const SUFFIX = ' */';

/** Athena's name for the Glue Data Catalog. */
export const ATHENA_CATALOG = 'awsdatacatalog';

/** The decoded content of a Presto view. */
export interface PrestoViewDefinition {
  readonly originalSql: string;
  readonly catalog: string;
  readonly schema: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
}

/** The `ViewOriginalText` of a view. */
export function encodePrestoView(definition: PrestoViewDefinition): string {
  const json = JSON.stringify({ originalSql: definition.originalSql, catalog: definition.catalog, schema: definition.schema, columns: definition.columns });
  return `${PREFIX}${Buffer.from(json, 'utf8').toString('base64')}${SUFFIX}`;
}

/**
 * Decodes a `ViewOriginalText` (for tests and `apilake status`-style tooling).
 * @throws ApilakeError when the text is not a Presto view
 */
export function decodePrestoView(text: string): PrestoViewDefinition {
  if (!text.startsWith(PREFIX) || !text.endsWith(SUFFIX)) throw new ApilakeError(`not a Presto view: expected "${PREFIX}<base64> */", received "${text.slice(0, 40)}…"`);
  const parsed = JSON.parse(Buffer.from(text.slice(PREFIX.length, -SUFFIX.length), 'base64').toString('utf8')) as Partial<PrestoViewDefinition>;
  if (typeof parsed.originalSql !== 'string' || typeof parsed.catalog !== 'string' || typeof parsed.schema !== 'string' || !Array.isArray(parsed.columns)) {
    throw new ApilakeError('not a Presto view: the JSON lacks originalSql, catalog, schema or columns');
  }
  return parsed as PrestoViewDefinition;
}

/** A column of a view, typed. */
export interface ViewColumn {
  readonly name: string;
  readonly type: ColumnType;
  readonly comment?: string;
}

/**
 * The `TableInput` of a view, in CloudFormation's shape (`AWS::Glue::Table` / CDK
 * `glue.CfnTable.TableInputProperty`): pass it as `tableInput` of a `CfnTable`.
 * `database` must be the literal database name (it is written into the encoded JSON).
 */
export interface ViewTableInput {
  readonly name: string;
  readonly description?: string;
  readonly tableType: 'VIRTUAL_VIEW';
  readonly parameters: { readonly presto_view: 'true'; readonly comment: 'Presto View' };
  readonly viewOriginalText: string;
  readonly viewExpandedText: '/* Presto View */';
  readonly storageDescriptor: {
    readonly columns: { readonly name: string; readonly type: string; readonly comment?: string }[];
    readonly serdeInfo: Record<string, never>;
  };
}

/** The Glue table of an Athena view over `sql` (a SELECT) in `database`. */
export function prestoViewTableInput(input: { name: string; database: string; sql: string; columns: readonly ViewColumn[]; description?: string }): ViewTableInput {
  return {
    name: input.name,
    ...(input.description === undefined ? {} : { description: input.description }),
    tableType: 'VIRTUAL_VIEW',
    parameters: { presto_view: 'true', comment: 'Presto View' },
    viewOriginalText: encodePrestoView({
      originalSql: input.sql,
      catalog: ATHENA_CATALOG,
      schema: input.database,
      columns: input.columns.map((c) => ({ name: c.name, type: trinoType(c.type) })),
    }),
    viewExpandedText: '/* Presto View */',
    storageDescriptor: {
      columns: input.columns.map((c) => ({ name: c.name, type: glueType(c.type), ...(c.comment === undefined ? {} : { comment: c.comment.slice(0, 255) }) })),
      serdeInfo: {},
    },
  };
}
