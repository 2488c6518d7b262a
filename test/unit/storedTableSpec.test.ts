import { describe, expect, it } from 'vitest';
import { SinkError } from '../../functions/errors.js';
import { committedTableSpec } from '../../functions/sink/committedTableSpec.js';
import { manifestKey, partKey, type WindowRef } from '../../functions/sink/lakeLayout.js';
import type { CommittedWindow } from '../../functions/sink/lakeSnapshot.js';
import { buildManifest, parseManifest, serializeManifest } from '../../functions/sink/manifest.js';
import { parseColumnType } from '../../functions/config/columnType.js';
import { diffTableSpecs } from '../../functions/tables/diffTableSpecs.js';
import { parseStoredTableSpec, storedTableSpec, tableSpecFromStored } from '../../functions/tables/storedTableSpec.js';
import type { TableSpec, TypedColumn } from '../../functions/tables/tableSpec.js';

function column(name: string, path: string, text: string): TypedColumn {
  const parsed = parseColumnType(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return { name, path, type: parsed.type, comment: `${path} as ${text}` };
}

const SPEC: TableSpec = {
  source: 'shop',
  stream: 'orders',
  name: 'shop_orders',
  columns: [
    column('id', 'id', 'bigint'),
    column('amount', 'price.amount', 'decimal(12,2)'),
    column('tags', 'tags[].name', 'array<string>'),
    column('at', 'updated_at', 'timestamp'),
    { ...column('sent', 'date_created', 'timestamp'), format: 'EEE, dd MMM yyyy HH:mm:ss xx', timeZone: 'Europe/Berlin' },
  ],
  primaryKey: ['id', 'region.code'],
  cursorField: 'updated_at',
};

const stored = () => JSON.parse(JSON.stringify(storedTableSpec(SPEC))) as Record<string, unknown> & { columns: Record<string, unknown>[] };

describe('stored table spec', () => {
  it('reads back as the spec it was stored from, through JSON', () => {
    const parsed = parseStoredTableSpec(stored());
    if (!parsed.ok) throw new Error(parsed.message);
    expect(tableSpecFromStored('shop', 'orders', parsed.stored)).toEqual(SPEC);
  });

  it('stores types as their Hive text and omits an absent cursor field', () => {
    expect(storedTableSpec({ ...SPEC, cursorField: undefined, columns: [column('amount', 'a', 'DECIMAL( 12 , 2 )')] })).toEqual({
      columns: [{ name: 'amount', path: 'a', type: 'decimal(12,2)', comment: 'a as DECIMAL( 12 , 2 )' }],
      primary_key: ['id', 'region.code'],
    });
  });

  it.each<[string, (s: ReturnType<typeof stored>) => unknown, RegExp]>([
    ['not an object', () => [], /not a JSON object/],
    ['columns not a list', (s) => ({ ...s, columns: {} }), /columns is not a list/],
    ['a column without its type', (s) => ({ ...s, columns: [{ name: 'id', path: 'id', comment: '' }] }), /columns\[0\] is not \{name, path, type, comment\}/],
    ['a column name SQL would need to quote', (s) => ({ ...s, columns: [{ ...s.columns[0], name: 'Id"; drop' }] }), /columns\[0\]\.name .* does not match/],
    ['an unknown type', (s) => ({ ...s, columns: [{ ...s.columns[0], type: 'map<string,string>' }] }), /columns\.0\.type: "map<string,string>" is not a column type/],
    ['an envelope column name', (s) => ({ ...s, columns: [{ ...s.columns[0], name: 'dt' }] }), /"dt" is an envelope column/],
    ['a duplicate column', (s) => ({ ...s, columns: [s.columns[0], s.columns[0]] }), /duplicate column name "id"/],
    ['a primary key the _latest view cannot express', (s) => ({ ...s, primary_key: ['items[0].id'] }), /primary_key\.0: .* neither the path of a declared column nor a dotted path/],
    ['a primary key that is not a list', (s) => ({ ...s, primary_key: 'id' }), /primary_key is not a list/],
    ['a format without its zone', (s) => ({ ...s, columns: [{ ...s.columns[4], time_zone: undefined }] }), /columns\[0\]: format and time_zone go together/],
    ['a format that does not read timestamps', (s) => ({ ...s, columns: [{ ...s.columns[4], format: 'HH:mm' }] }), /columns\.0\.format: .*it cannot read timestamps/],
    ['a cursor field that is not JMESPath', (s) => ({ ...s, cursor_field: 'a[' }), /cursor_field is not a JMESPath text/],
  ])('fails if it has %s', (_, edit, message) => {
    const parsed = parseStoredTableSpec(edit(stored()));
    expect(parsed.ok).toBe(false);
    expect((parsed as { message: string }).message).toMatch(message);
  });
});

describe('diffTableSpecs', () => {
  const declared = (edit: Partial<TableSpec>): TableSpec => ({ ...SPEC, ...edit });
  it.each<[string, Partial<TableSpec>, string[]]>([
    ['nothing when only comments and column order differ', { columns: [...SPEC.columns].reverse().map((c) => ({ ...c, comment: 'other' })) }, []],
    [
      'a changed type',
      { columns: SPEC.columns.map((c) => (c.name === 'amount' ? column('amount', 'price.amount', 'string') : c)) },
      ['column amount: decimal(12,2) in the lake, string in the definition'],
    ],
    ['a changed path', { columns: SPEC.columns.map((c) => (c.name === 'id' ? column('id', 'data.id', 'bigint') : c)) }, ['column id: path id in the lake, data.id in the definition']],
    [
      'an added and a removed column',
      { columns: [...SPEC.columns.filter((c) => c.name !== 'tags'), column('region', 'region.code', 'string')] },
      ['column tags only in the lake', 'column region only in the definition'],
    ],
    ['a changed primary key', { primaryKey: [] }, ['primary key [id, region.code] in the lake, none in the definition']],
    ['a changed cursor field', { cursorField: undefined }, ['cursor field updated_at in the lake, none in the definition']],
  ])('reports %s', (_, edit, differences) => {
    expect(diffTableSpecs(SPEC, declared(edit))).toEqual(differences);
  });
});

describe('the table spec of a commit', () => {
  const ref: WindowRef = { source: 'shop', stream: 'orders', window: { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') } };
  const run = '20240101T010000Z-0123456789ab';
  const manifest = (table?: TableSpec, committedAt = '2024-01-01T01:05:00Z', window = ref.window) =>
    buildManifest({
      ref: { ...ref, window },
      commit: 1,
      runId: run,
      startedAt: new Date('2024-01-01T01:00:00Z'),
      committedAt: new Date(committedAt),
      parts: [{ key: partKey({ ...ref, window }, run, 0), records: 1, bytes: 10, sha256: 'a'.repeat(64) }],
      pages: 1,
      requests: 1,
      retries: 0,
      throttled: 0,
      ...(table ? { table } : {}),
    });
  const parse = (text: string) => parseManifest(Buffer.from(text), manifestKey(ref, 1), { ref, commit: 1 });

  it('is recorded in the manifest and read back with it', () => {
    expect(parse(serializeManifest(manifest(SPEC))).table).toEqual(storedTableSpec(SPEC));
  });

  it('is absent from a commit made before commits recorded it, which still reads', () => {
    const parsed = parse(serializeManifest(manifest()));
    expect(parsed.table).toBeUndefined();
    expect(parsed.totals.records).toBe(1);
  });

  it('fails if the recorded spec is not valid: the commit is rejected, never half-trusted', () => {
    const text = serializeManifest(manifest(SPEC)).replace('"decimal(12,2)"', '"decimal(99,2)"');
    expect(() => parse(text)).toThrow(SinkError);
    expect(() => parse(text)).toThrow(/its table spec is not valid: columns\.1\.type: .*precision 99/);
  });

  it('is the newest commit’s when windows were committed with different specs, counting the others', () => {
    const hour = (h: number) => ({ start: new Date(Date.UTC(2024, 0, 1, h)), end: new Date(Date.UTC(2024, 0, 1, h + 1)) });
    const newer: TableSpec = { ...SPEC, columns: [...SPEC.columns, column('region', 'region.code', 'string')] };
    const windows: CommittedWindow[] = [
      // A later window committed first, then an earlier window re-run with the newer definition.
      { ref: { ...ref, window: hour(5) }, commit: 1, key: 'k5', manifest: manifest(SPEC, '2024-01-01T06:00:00Z', hour(5)) },
      { ref: { ...ref, window: hour(1) }, commit: 2, key: 'k1', manifest: manifest(newer, '2024-01-02T00:00:00Z', hour(1)) },
      { ref: { ...ref, window: hour(2) }, commit: 1, key: 'k2', manifest: manifest(undefined, '2024-01-03T00:00:00Z', hour(2)) },
    ].map((w) => ({ ...w, manifest: parseManifest(Buffer.from(serializeManifest(w.manifest)), manifestKey(w.ref, 1), { ref: w.ref, commit: 1 }) }));
    const chosen = committedTableSpec(windows);
    expect(chosen?.key).toBe('k1');
    expect(chosen?.spec).toEqual(newer);
    expect(chosen?.otherSpecs).toBe(2);
    expect(committedTableSpec(windows.filter((w) => w.key === 'k2'))).toBeUndefined();
  });
});
