import { execFile } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { getObject, listKeys, readS3Records } from '../support/awsServers.js';
import { sourceSchemaDigest } from '../../functions/config/sourceSchemaDigest.js';
import { expectedParquetCodec } from '../support/expectedParquetCodec.js';
import { useDurableTestbed } from '../support/durableTestbed.js';
import { buildStack } from '../support/infraApp.js';
import { testSource } from '../support/sources.js';
import { rows } from '../support/tableLake.js';

/**
 * The bundle is what Lambda runs on nodejs22.x: a durable function, invoked here through the
 * durable execution SDK's local runner (Node 22 only, like the SDK).
 */
type DurableHandler = ConstructorParameters<typeof LocalDurableTestRunner>[0]['handlerFunction'];
type Summary = { streams: { status: string; records: number }[] };

const bed = useDurableTestbed({ api: { count: 250 } });
let bundleDir: string;

beforeAll(async () => {
  // GIVEN the app synthesized with real esbuild bundling, as `cdk deploy` would upload it
  const outdir = await mkdtemp(join(tmpdir(), 'apilake-cdkout-'));
  const source = testSource(bed.api.url, {
    path: '/cursor',
    params: { since: '{window.start}', until: '{window.end}', limit: 20 },
    records: 'data',
    pagination: { type: 'cursor', cursor: 'meta.next_cursor', param: 'cursor' },
  });
  const { app } = buildStack({ sources: [source] }, { bundle: true, outdir });
  app.synth();
  const template = JSON.parse(await readFile(join(outdir, 'apilake-test.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Metadata?: Record<string, string> }> };
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
  bundleDir = join(outdir, fn.Metadata!['aws:asset:path']!);
}, 120_000);

describe('the synthesized function bundle', () => {
  it('is a minified ESM file with a linked source map and the definition compiled in', async () => {
    const code = await readFile(join(bundleDir, 'index.mjs'), 'utf8');
    expect(code.startsWith('import { createRequire')).toBe(true);
    expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
    expect((await stat(join(bundleDir, 'index.mjs.map'))).size).toBeGreaterThan(0);
    expect(code).toMatch(/name\\?":\\?"testapi/); // the source definition is compiled in
    // …under the stamp of the schema it was validated against and its SHA-256, and the bundle knows its own schema.
    const q = '\\\\?"';
    expect(code).toMatch(new RegExp(`${q}compiled${q}:\\{${q}by${q}:${q}apilake${q},${q}format${q}:1,${q}schema${q}:${q}${sourceSchemaDigest()}${q},${q}sha256${q}:${q}[0-9a-f]{64}${q}\\}`));
    expect(code.split(sourceSchemaDigest()).length).toBeGreaterThanOrEqual(3);
    // The Parquet encoder thread's script, started from beside index.mjs (encoderThread.ts).
    const encoder = await readFile(join(bundleDir, 'parquetThread.mjs'), 'utf8');
    expect(encoder).not.toMatch(/from\s*["']hyparquet-writer["']/); // bundled: the asset has no node_modules
    expect(code).toContain('parquetThread.mjs');
  });

  it('stays within its 1 MiB budget (docs/performance.md, T6)', async () => {
    // The whole Lambda client, which the durable execution SDK would bring (bin/lambdaDurableApi.mjs), took it past.
    expect((await stat(join(bundleDir, 'index.mjs'))).size).toBeLessThanOrEqual(1024 * 1024);
  });

  it('ships nothing the function does not run: no schema library, no YAML parser, no credential providers beyond the environment', async () => {
    const { sources } = JSON.parse(await readFile(join(bundleDir, 'index.mjs.map'), 'utf8')) as { sources: string[] };
    expect(sources.some((s) => s.includes('functions/ingest/handler.ts'))).toBe(true);
    for (const absent of ['node_modules/zod/', 'node_modules/yaml/', 'credential-provider-sso', 'credential-provider-ini', 'credential-provider-imds']) {
      expect(sources.filter((s) => s.includes(absent))).toEqual([]);
    }
    expect(sources.some((s) => s.includes('functions/ingest/lambdaCredentials.ts'))).toBe(true);
  });

  it('loads without undici: on Node 22 an ES import of node:http alone would load it, about 100 ms of cold start', async () => {
    const script = `await import(${JSON.stringify(pathToFileURL(join(bundleDir, 'index.mjs')).href)}); console.log(JSON.stringify(process.moduleLoadList.filter((m) => /undici/.test(m))));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, AWS_REGION: 'us-east-1' }, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual([]);
  });

  it(`loads and lands a scheduled window in S3 with idempotency in DynamoDB, its Parquet in ${expectedParquetCodec()} on this Node (${process.version})`, async () => {
    await bed.aws.createBucket('bundle-lake');
    await bed.aws.createIdempotencyTable('bundle-idempotency');
    for (const [k, v] of Object.entries({ ...bed.aws.env, APILAKE_BUCKET: 'bundle-lake', APILAKE_IDEMPOTENCY_TABLE: 'bundle-idempotency' })) vi.stubEnv(k, v);
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      // WHEN the bundle (not the TypeScript source) handles a tick, twice
      // (a durable function: each tick is one durable execution, here on the SDK's local runner)
      const { handler } = (await import(pathToFileURL(join(bundleDir, 'index.mjs')).href)) as { handler: DurableHandler };
      const tick = { source: 'testapi', scheduledTime: '2024-01-01T02:00:00Z' };
      const first = await new LocalDurableTestRunner<Summary>({ handlerFunction: handler }).run({ payload: tick });
      const second = await new LocalDurableTestRunner<Summary>({ handlerFunction: handler }).run({ payload: tick });
      // THEN the window lands once
      expect(first.getResult()?.streams).toMatchObject([{ status: 'committed', records: 60 }]);
      expect(second.getResult()?.streams).toMatchObject([{ status: 'duplicate', records: 60 }]);
    } finally {
      write.mockRestore();
      vi.unstubAllEnvs();
    }
    const keys = await listKeys(bed.aws.s3, 'bundle-lake');
    expect(keys).toHaveLength(5);
    expect(keys[0]).toMatch(/^curated\/source=testapi\/stream=items\/dt=2024-01-01\/20240101T010000Z_20240101T020000Z_\d{8}T\d{6}Z-[0-9a-f]{12}_part-00000\.parquet$/);
    expect(keys[1]).toBe('manifests/source=testapi/stream=items/dt=2024-01-01/20240101T010000Z_20240101T020000Z.000001.json');
    expect(keys[2]).toMatch(/^raw\/source=testapi\/stream=items\/dt=2024-01-01\/20240101T010000Z_20240101T020000Z_\d{8}T\d{6}Z-[0-9a-f]{12}_part-00000\.jsonl\.gz$/);
    expect(keys[3]).toBe('symlinks/curated/source=testapi/stream=items/dt=2024-01-01/20240101T010000Z_20240101T020000Z.txt');
    expect(keys[4]).toBe('symlinks/raw/source=testapi/stream=items/dt=2024-01-01/20240101T010000Z_20240101T020000Z.txt');
    expect((await readS3Records(bed.aws.s3, 'bundle-lake')).map((r) => (r.data as { id: number }).id)).toEqual(Array.from({ length: 60 }, (_, i) => 61 + i));

    // The curated file as the function's encoder thread wrote it: ZSTD on Lambda's nodejs22.x, read back by DuckDB.
    const parquet = join(bundleDir, '..', 'curated.parquet');
    await writeFile(parquet, await getObject(bed.aws.s3, 'bundle-lake', keys[0]!));
    const db = await (await DuckDBInstance.create()).connect();
    expect(await rows(db, `SELECT DISTINCT compression FROM parquet_metadata('${parquet}')`)).toEqual([{ compression: expectedParquetCodec() }]);
    const curated = await rows(db, `SELECT _source, _window_start, data FROM read_parquet('${parquet}')`);
    expect(curated.map((r) => ({ ...r, data: (JSON.parse(r.data as string) as { id: number }).id })).sort((a, b) => a.data - b.data)).toEqual(
      Array.from({ length: 60 }, (_, i) => ({ _source: 'testapi', _window_start: '2024-01-01T01:00:00Z', data: 61 + i })),
    );
  });
  it('refuses, with a clear error, a plain definition set in its environment in place of the compiled one', async () => {
    const plain = JSON.stringify({ name: 'testapi', schedule: 'rate(1 hour)', base_url: bed.api.url, streams: [{ name: 'items', path: '/cursor' }] });
    for (const [k, v] of Object.entries({ ...bed.aws.env, APILAKE_SOURCE_JSON: plain, APILAKE_BUCKET: 'bundle-lake', APILAKE_IDEMPOTENCY_TABLE: 'bundle-idempotency' })) vi.stubEnv(k, v);
    try {
      // A fresh instance of the bundle: its configuration is read once per container.
      const { handler } = (await import(`${pathToFileURL(join(bundleDir, 'index.mjs')).href}?plain`)) as { handler: DurableHandler };
      const execution = await new LocalDurableTestRunner<Summary>({ handlerFunction: handler }).run({ payload: { source: 'testapi', scheduledTime: '2024-01-01T02:00:00Z' } });
      expect(execution.getStatus()).toBe('FAILED');
      expect(execution.getError()?.errorMessage).toMatch(/^function misconfigured: APILAKE_SOURCE_JSON: not a compiled source definition: no "compiled" stamp/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
