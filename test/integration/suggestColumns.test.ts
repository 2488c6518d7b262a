import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseSource } from '../../functions/config/loadSources.js';
import { parseJson } from '../../functions/body/preciseJson.js';
import { formatColumnsYaml, parseDuckType, recordSampleSql, recordTypeSql, suggestColumns, textType } from '../../functions/tables/suggestColumns.js';
import { hasTextRecords, tableSpec } from '../../functions/tables/tableSpec.js';
import { landWindow } from '../support/tableLake.js';

const RECORDS = [
  {
    id: 1,
    createdAt: '2024-01-01T00:00:00Z',
    day: '2024-01-02',
    user: { login: 'ada', id: 5, 'site-admin': false, org: { team: { name: 'core' } } },
    labels: [{ name: 'bug', color: 'red' }],
    tags: ['x'],
    amount: 1.5,
    grid: [[1, 2]],
    data: 'a field named like an envelope column',
    big: 12_345_678_901_234_567_890n,
    mixed: 1,
  },
  { id: 2, createdAt: '2024-01-01T00:00:00.123+02:00', day: '2024-01-03', user: { login: 'bob', id: 6 }, labels: [], tags: [], amount: 2, grid: [], data: 'x', mixed: 'x' },
].map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? `__big${v}` : v)).replace(/"__big(\d+)"/g, '$1'));

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'apilake-suggest-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('apilake schema suggest', () => {
  it("turns DuckDB's inference over committed records into a columns block that validates and converts them all", async () => {
    const base = parseSource(`name: shop\nschedule: rate(1 hour)\nbase_url: https://api.example.com\nstreams:\n  - name: users\n    path: /users\n`, 'shop.yaml');
    const landed = await landWindow(root, tableSpec(base, base.streams[0]!), { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') }, 'r', [
      { extractedAt: new Date('2024-01-01T00:05:00Z'), records: RECORDS },
    ]);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const [described] = (await db.runAndReadAll(recordTypeSql([landed.rawFile]))).getRowObjectsJson();
    const type = described?.column_type;
    if (typeof type !== 'string') throw new Error(`DuckDB described no type: ${JSON.stringify(described)}`);
    // DuckDB alone leaves createdAt VARCHAR here: it picks one timestamp format per file, and the envelope's wins.
    expect(type).toContain('createdAt VARCHAR');
    // The sample query casts each record to VARCHAR.
    const samples = (await db.runAndReadAll(recordSampleSql([landed.rawFile], 100))).getRowObjectsJson().map((r) => parseJson(r.record as string).value);
    expect(samples).toHaveLength(2);
    const suggestion = suggestColumns(type, samples);

    expect(suggestion.primaryKey).toEqual(['id']);
    expect(suggestion.columns).toEqual([
      { name: 'id', path: 'id', type: 'bigint' },
      { name: 'created_at', path: 'createdAt', type: 'timestamp' },
      { name: 'day', path: 'day', type: 'date' },
      { name: 'user_login', path: 'user.login', type: 'string' },
      { name: 'user_id', path: 'user.id', type: 'bigint' },
      { name: 'user_site_admin', path: 'user."site-admin"', type: 'boolean' },
      { name: 'user_org_team', path: 'user.org.team', type: 'json' },
      { name: 'labels_name', path: 'labels[].name', type: 'array<string>' },
      { name: 'labels_color', path: 'labels[].color', type: 'array<string>' },
      { name: 'tags', path: 'tags', type: 'array<string>' },
      { name: 'amount', path: 'amount', type: 'double' },
      { name: 'grid', path: 'grid', type: 'array<array<bigint>>' },
      { name: 'data_value', path: 'data', type: 'string' },
      { name: 'big', path: 'big', type: 'decimal(38,0)' },
      { name: 'mixed', path: 'mixed', type: 'json' },
    ]);

    const yaml = formatColumnsYaml(suggestion);
    expect(yaml.split('\n').slice(0, 3)).toEqual(['    primary_key: [id]', '    columns:', '      - { name: id, path: id, type: bigint }']);
    expect(parseYaml(yaml)).toMatchObject({ primary_key: ['id'], columns: suggestion.columns });

    // Pasted under the stream, it validates, and every sampled record converts without a failure.
    const source = parseSource(`name: shop\nschedule: rate(1 hour)\nbase_url: https://api.example.com\nstreams:\n  - name: users\n    path: /users\n${yaml}`, 'shop.yaml');
    const spec = tableSpec(source, source.streams[0]!);
    const again = await landWindow(join(root, 'typed'), spec, { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') }, 'r', [
      { extractedAt: new Date('2024-01-01T00:05:00Z'), records: RECORDS },
    ]);
    expect(again.typeErrors).toEqual({});
  });
});

/** A CSV stream's records: every value text, as the CSV reader lands a row; empty cells are "". */
const CSV_RECORDS = [
  { Id: '001', Amount: '12', Price: '1.50', Active: 'true', Day: '2024-01-02', At: '2024-01-01T00:00:00Z', Big: '123456789012345678901234', Note: 'x', Mixed: '1', Empty: '' },
  { Id: '002', Amount: '', Price: '2', Active: 'false', Day: '', At: '2024-01-01T01:00:00+02:00', Big: '-1', Note: '', Mixed: 'a', Empty: '' },
  { Id: '003', Amount: '-7', Price: '-0.25e2', Active: '', Day: '2024-02-29', At: '', Big: '', Note: '12', Mixed: '', Empty: '' },
].map((r) => JSON.stringify(r));

describe('apilake schema suggest for CSV and XML streams', () => {
  it('types each field of CSV records from its text, every non-empty value reading as the type', async () => {
    const source = parseSource(`name: shop\nschedule: rate(1 hour)\nbase_url: https://api.example.com\nstreams:\n  - name: users\n    path: /users.csv\n    format: csv\n`, 'shop.yaml');
    const stream = source.streams[0]!;
    const landed = await landWindow(join(root, 'csv'), tableSpec(source, stream), { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') }, 'r', [
      { extractedAt: new Date('2024-01-01T00:05:00Z'), records: CSV_RECORDS },
    ]);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const type = (await db.runAndReadAll(recordTypeSql([landed.rawFile]))).getRowObjectsJson()[0]?.column_type as string;
    const samples = (await db.runAndReadAll(recordSampleSql([landed.rawFile], 100))).getRowObjectsJson().map((r) => parseJson(r.record as string).value);
    expect(hasTextRecords(stream)).toBe(true);
    const types = (options: { textRecords: boolean }) => Object.fromEntries(suggestColumns(type, samples, options).columns.map((c) => [c.path, c.type]));
    expect(types({ textRecords: true })).toEqual({
      Id: 'string', // leading zeros: a code, not a number
      Amount: 'bigint',
      Price: 'double',
      Active: 'boolean',
      Day: 'date',
      At: 'timestamp',
      Big: 'decimal(38,0)',
      Note: 'string',
      Mixed: 'string',
      Empty: 'string',
    });
    // The records of a JSON body keep their JSON types: text stays text there.
    expect(types({ textRecords: false })).toMatchObject({ Amount: 'string', Price: 'string', Active: 'string', Big: 'string' });
  });

  it('types XML records (attributes, child text, repeated elements) from their text', () => {
    const samples = [
      { '@id': '7', name: 'a', price: '3.5', tag: ['1', '2'], sent: '2024-01-01T00:00:00Z' },
      { '@id': '8', name: 'b', price: '4', tag: ['3'], sent: '1704067200' },
    ];
    expect(suggestColumns('STRUCT("@id" VARCHAR, "name" VARCHAR, price VARCHAR, tag VARCHAR[], sent VARCHAR)', samples, { textRecords: true }).columns).toEqual([
      { name: 'id', path: '"@id"', type: 'bigint' },
      { name: 'name', path: 'name', type: 'string' },
      { name: 'price', path: 'price', type: 'double' },
      { name: 'tag', path: 'tag', type: 'array<bigint>' },
      { name: 'sent', path: 'sent', type: 'string' },
    ]);
  });

  it.each([
    [['1', '-2', '0', ''], 'bigint'],
    [['9223372036854775807'], 'bigint'],
    [['9223372036854775808'], 'decimal(38,0)'],
    [['1'.repeat(39)], 'string'],
    [['1.5', '2', '-3e2', ''], 'double'],
    [['1.', '2'], 'string'],
    [['007', '8'], 'string'],
    [['+1'], 'string'],
    [['NaN'], 'string'],
    [['1e999'], 'string'],
    [['true', 'false', ''], 'boolean'],
    [['TRUE', 'false'], 'string'],
    [['2024-01-02', '2024-12-31'], 'date'],
    [['2024-02-30'], 'string'],
    [['2024-01-02', '2024-01-02T00:00:00Z'], 'timestamp'],
    [['2024-01-02T03:04:05.678+01:00'], 'timestamp'],
    [['', ''], 'string'],
    [[], 'string'],
  ])('reads %j as %s', (values, expected) => {
    expect(textType(values)).toBe(expected);
  });

  it('knows the streams whose records are text: CSV and XML bodies', () => {
    const stream = (lines: string) => parseSource(`name: shop\nschedule: rate(1 hour)\nbase_url: https://api.example.com\nstreams:\n  - name: s\n    path: /s\n${lines}`, 'shop.yaml').streams[0]!;
    expect(hasTextRecords(stream(''))).toBe(false);
    expect(hasTextRecords(stream('    format: jsonl\n'))).toBe(false);
    expect(hasTextRecords(stream('    format: { type: xml, records: rows/row }\n'))).toBe(true);
  });
});

describe('parseDuckType', () => {
  it('reads quoted names, multi-word and parameterised types, maps and nested lists', () => {
    expect(parseDuckType('STRUCT("a ""b""" TIMESTAMP WITH TIME ZONE, c DECIMAL(18,3)[], m MAP(VARCHAR, BIGINT), s STRUCT(x INTEGER)[][])')).toEqual({
      kind: 'struct',
      fields: [
        ['a "b"', { kind: 'scalar', name: 'TIMESTAMP WITH TIME ZONE' }],
        ['c', { kind: 'list', element: { kind: 'scalar', name: 'DECIMAL(18,3)' } }],
        ['m', { kind: 'scalar', name: 'JSON' }],
        ['s', { kind: 'list', element: { kind: 'list', element: { kind: 'struct', fields: [['x', { kind: 'scalar', name: 'INTEGER' }]] } } }],
      ],
    });
    expect(suggestColumns('STRUCT(c DECIMAL(18,3)[], "1st" VARCHAR, m MAP(VARCHAR, BIGINT))').columns).toEqual([
      { name: 'c', path: 'c', type: 'array<decimal(18,3)>' },
      { name: 'f_1st', path: '"1st"', type: 'string' },
      { name: 'm', path: 'm', type: 'json' },
    ]);
  });

  it('checks each suggestion against sample records with the conversion rules of apilake', () => {
    const samples = [
      { a: 'x1', t: '2024-01-01T00:00:00+02:00', d: '2024-01-01', tags: ['2024-01-01T00:00:00Z'], n: 1, o: { k: 1 } },
      { a: 2, t: null, d: '2024-01-02', tags: [], n: 2.5, o: 'text' },
    ];
    expect(suggestColumns('STRUCT(a BIGINT, t VARCHAR, d VARCHAR, tags VARCHAR[], n BIGINT, o VARCHAR, missing VARCHAR)', samples).columns).toEqual([
      { name: 'a', path: 'a', type: 'string' },
      { name: 't', path: 't', type: 'timestamp' },
      { name: 'd', path: 'd', type: 'date' },
      { name: 'tags', path: 'tags', type: 'array<timestamp>' },
      { name: 'n', path: 'n', type: 'string' },
      { name: 'o', path: 'o', type: 'json' },
      { name: 'missing', path: 'missing', type: 'string' },
    ]);
  });

  it.each(['STRUCT(a', 'STRUCT(a INTEGER))', 'STRUCT(, a INTEGER)', 'STRUCT("a INTEGER)', ''])('fails on %j', (text) => {
    expect(() => parseDuckType(text)).toThrow('is not a DuckDB type');
  });
});
