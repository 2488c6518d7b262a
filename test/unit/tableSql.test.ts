import type * as glue from 'aws-cdk-lib/aws-glue';
import { TrinoSQL } from 'dt-sql-parser';
import { describe, expect, it } from 'vitest';
import { parseColumnType, RESERVED_COLUMN_NAMES, type ColumnType } from '../../functions/config/columnType.js';
import { curatedGlueColumns, rawGlueColumns } from '../../functions/tables/glueColumns.js';
import { athenaLatestView, keyExpression, latestViewSelect } from '../../functions/tables/latestView.js';
import { decodePrestoView, encodePrestoView } from '../../functions/tables/prestoView.js';
import { ENVELOPE_COLUMNS, PARTITION_COLUMN, type TableSpec, type TypedColumn } from '../../functions/tables/tableSpec.js';

const trino = new TrinoSQL();

function column(name: string, path: string, text: string): TypedColumn {
  const parsed = parseColumnType(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return { name, path, type: parsed.type, comment: `${path} as ${text}` };
}

const SPEC: TableSpec = {
  source: 'github_issues',
  stream: 'issues',
  name: 'github_issues_issues',
  columns: [
    column('id', 'id', 'bigint'),
    column('state', 'state', 'string'),
    column('updated_at', 'updated_at', 'timestamp'),
    column('amount', 'price.amount', 'decimal(12,2)'),
    column('labels', 'labels[].name', 'array<string>'),
    column('grid', 'grid', 'array<array<bigint>>'),
    column('order', 'order', 'json'),
  ],
  primaryKey: ['id', 'repo.name'],
  cursorField: 'updated_at',
};

/** Syntax errors of a statement under Trino's grammar (the dialect of Athena engine 3). */
function trinoErrors(sql: string): string[] {
  return trino.validate(sql).map((e) => e.message);
}

describe('reserved column names', () => {
  it('are exactly the envelope columns and the partition column of every table', () => {
    expect([...RESERVED_COLUMN_NAMES].sort()).toEqual([...ENVELOPE_COLUMNS, PARTITION_COLUMN].map((c) => c.name).sort());
  });
});

describe('Glue columns', () => {
  it('lists the Parquet table: envelope, _parent, data, typed columns in Hive types, partitioned by dt', () => {
    const table = curatedGlueColumns(SPEC);
    expect(table.name).toBe('github_issues_issues');
    expect(table.columns.map((c) => `${c.name} ${c.type}`)).toEqual([
      '_source string',
      '_stream string',
      '_window_start string',
      '_window_end string',
      '_extracted_at string',
      '_run_id string',
      '_parent string',
      'data string',
      'id bigint',
      'state string',
      'updated_at timestamp',
      'amount decimal(12,2)',
      'labels array<string>',
      'grid array<array<bigint>>',
      'order string',
    ]);
    expect(table.columns.find((c) => c.name === 'labels')).toMatchObject({ isPrimitive: false, comment: 'labels[].name as array<string>' });
    expect(table.partitionKeys).toEqual([{ name: 'dt', type: 'string', comment: expect.stringContaining('UTC date') as string, isPrimitive: true }]);
  });

  it('lists the raw JSON table under its own name, with _parent', () => {
    const table = rawGlueColumns(SPEC);
    expect(table.name).toBe('github_issues_issues_raw');
    expect(table.columns.map((c) => c.name)).toEqual(['_source', '_stream', '_window_start', '_window_end', '_extracted_at', '_run_id', '_parent', 'data']);
  });
});

describe('the _latest view', () => {
  it('orders versions by the cursor column, then window end, then extraction time, keyed by column or JSON path', () => {
    const sql = latestViewSelect(SPEC, 'athena')!;
    expect(sql).toContain(`PARTITION BY "id", json_extract_scalar("data", '$.repo.name') ORDER BY "updated_at" DESC NULLS LAST, "_window_end" DESC, "_extracted_at" DESC`);
    expect(sql).toContain(`WHERE "id" IS NOT NULL AND json_extract_scalar("data", '$.repo.name') IS NOT NULL`);
    expect(sql.split('\n')[0]).toBe(
      'SELECT "_source", "_stream", "_window_start", "_window_end", "_extracted_at", "_run_id", "_parent", "data", "id", "state", "updated_at", "amount", "labels", "grid", "order", "dt"',
    );
    expect(latestViewSelect(SPEC, 'duckdb')).toBe(sql.replaceAll('json_extract_scalar', 'json_extract_string'));
  });

  it('falls back to window order without a cursor field, and has no view without a primary key', () => {
    expect(latestViewSelect({ ...SPEC, cursorField: undefined }, 'athena')).toContain('ORDER BY "_window_end" DESC, "_extracted_at" DESC)');
    expect(latestViewSelect({ ...SPEC, primaryKey: [] }, 'athena')).toBeUndefined();
    expect(athenaLatestView({ ...SPEC, primaryKey: [] }, 'apilake')).toBeUndefined();
  });

  it('has no SQL form for a JMESPath that is neither a column path nor dotted', () => {
    expect(keyExpression('labels[0].name', SPEC.columns, 'athena')).toBeUndefined();
    expect(keyExpression('labels[].name', SPEC.columns, 'athena')).toBe('"labels"');
  });
});

describe('Athena SQL parses as Trino', () => {
  it.each([
    ['the _latest view', latestViewSelect(SPEC, 'athena')!],
    ['the _latest view without cursor', latestViewSelect({ ...SPEC, cursorField: undefined, primaryKey: ['id'] }, 'athena')!],
    ['the README query', 'SELECT state, count(*) FROM github_issues_issues_latest GROUP BY 1'],
    ['the view as CREATE VIEW', `CREATE OR REPLACE VIEW "github_issues_issues_latest" AS ${latestViewSelect(SPEC, 'athena')!}`],
  ])('%s', (_name, sql) => {
    expect(trinoErrors(sql)).toEqual([]);
  });

  it('fails on SQL that only DuckDB accepts, so the check above can fail', () => {
    expect(trinoErrors('SELECT * EXCLUDE ("_version_rank") FROM t')).not.toEqual([]);
    expect(trinoErrors('SELECT a FROM t QUALIFY row_number() OVER (PARTITION BY a) = 1')).not.toEqual([]);
  });
});

describe('Presto view encoding', () => {
  it('round-trips through the Glue VIRTUAL_VIEW text', () => {
    const definition = { originalSql: 'SELECT 1 AS "x"', catalog: 'awsdatacatalog', schema: 'apilake', columns: [{ name: 'x', type: 'integer' }] };
    const text = encodePrestoView(definition);
    expect(text).toMatch(/^\/\* Presto View: [A-Za-z0-9+/]+=*\s\*\/$/);
    expect(decodePrestoView(text)).toEqual(definition);
  });

  it('fails to decode text that is not a Presto view', () => {
    expect(() => decodePrestoView('SELECT 1')).toThrow('not a Presto view');
    expect(() => decodePrestoView(`/* Presto View: ${Buffer.from('{"x":1}').toString('base64')} */`)).toThrow('lacks originalSql');
  });

  it('builds the _latest view table that decodes to the generated SQL, with Presto and Hive column types', () => {
    const table = athenaLatestView(SPEC, 'apilake')!;
    // The object is a CloudFormation TableInput, as CDK's CfnTable takes it.
    const asCdk: glue.CfnTable.TableInputProperty = table;
    expect(asCdk.tableType).toBe('VIRTUAL_VIEW');
    expect(table).toMatchObject({ name: 'github_issues_issues_latest', parameters: { presto_view: 'true', comment: 'Presto View' }, viewExpandedText: '/* Presto View */' });
    const view = decodePrestoView(table.viewOriginalText);
    expect(view.originalSql).toBe(latestViewSelect(SPEC, 'athena'));
    expect(trinoErrors(view.originalSql)).toEqual([]);
    expect(view).toMatchObject({ catalog: 'awsdatacatalog', schema: 'apilake' });
    const types = Object.fromEntries(view.columns.map((c) => [c.name, c.type]));
    expect(types).toMatchObject({
      _source: 'varchar',
      data: 'varchar',
      id: 'bigint',
      updated_at: 'timestamp(3)',
      amount: 'decimal(12,2)',
      labels: 'array(varchar)',
      grid: 'array(array(bigint))',
      order: 'varchar',
      dt: 'varchar',
    });
    const glueTypes = Object.fromEntries(table.storageDescriptor.columns.map((c) => [c.name, c.type]));
    expect(glueTypes).toMatchObject({ updated_at: 'timestamp', labels: 'array<string>', grid: 'array<array<bigint>>', dt: 'string' });
    expect(view.columns.map((c) => c.name)).toEqual(table.storageDescriptor.columns.map((c) => c.name));
  });
});

describe('type spellings', () => {
  it.each<[string, string, string]>([
    ['json', 'string', 'varchar'],
    ['date', 'date', 'date'],
    ['boolean', 'boolean', 'boolean'],
    ['double', 'double', 'double'],
    ['array<decimal(38,4)>', 'array<decimal(38,4)>', 'array(decimal(38,4))'],
  ])('%s is %s in Glue and %s in a Presto view', async (text, hive, presto) => {
    const { glueType, trinoType } = await import('../../functions/tables/columnSpellings.js');
    const type = (parseColumnType(text) as { type: ColumnType }).type;
    expect([glueType(type), trinoType(type)]).toEqual([hive, presto]);
  });
});
