import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apilake, type CliResult } from '../support/cli.js';
import { MOTO_AWS, startMoto, type MotoServer } from '../support/motoServer.js';
import { projectFolder } from '../support/shopProject.js';

// Every error a user can reach ends with a message, a hint where one helps, and a documented
// exit code (0 ok, 1 a window failed or status found a problem, 2 invalid input or set-up);
// never "unexpected error" and a stack trace.
let cwd: string;
let moto: MotoServer;
/** Runs the CLI with no AWS region or credentials anywhere: no AWS_* variable, no config files, no instance metadata. */
function apilakeWithoutAws(args: readonly string[], extra: Record<string, string> = {}): Promise<CliResult> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  Object.assign(env, { AWS_CONFIG_FILE: join(cwd, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(cwd, 'none'), AWS_EC2_METADATA_DISABLED: 'true', ...extra });
  const bin = new URL('../../bin/apilake.mjs', import.meta.url).pathname;
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  moto = await startMoto();
  cwd = await projectFolder('apilake-errors-', {
    'shop.yaml': `name: shop
schedule: rate(1 hour)
base_url: http://127.0.0.1:9
auth: { type: bearer, secret: apilake/shop }
streams:
  - name: items
    path: /items
    window: 1h
`,
  });
  await writeFile(join(cwd, 'cdk-outputs.json'), JSON.stringify({ 'apilake-prod': { AthenaWorkGroup: 'apilake-prod', GlueDatabase: 'apilake_prod', LakeBucketName: 'lake' } }));
});
afterAll(() => moto.stop());

const noStack = (text: string) => expect(text).not.toMatch(/unexpected error|\n\s+at /);

describe('exit codes and hints', () => {
  it('prints the version from package.json, exit 0', async () => {
    const { code, stdout } = await apilake(['--version'], { cwd });
    expect(code).toBe(0);
    expect(stdout.trim()).toBe((JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version);
  });

  it.each([
    [['--nope'], "unknown option '--nope'"],
    [['run'], "missing required argument 'source'"],
    [['query', 'select 1', '--format', 'xml'], "argument 'xml' is invalid"],
    [['backfill', 'shop', '--from', '2024-01-01'], 'missing --to: a backfill replays the windows of a range'],
    [[], 'Usage: apilake'],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const { code, stderr } = await apilake(args, { cwd });
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  it('checks --stream before reading the secret: a typo is reported as a typo, exit 2', async () => {
    const { code, stderr } = await apilake(['run', 'shop', '--stream', 'itemz'], { cwd });
    expect(code).toBe(2);
    expect(stderr).toContain('source "shop" has no stream "itemz" (streams: items)');
    expect(stderr).not.toContain('secret');
  });

  it('checks --concurrency and the range before the secret in backfill, exit 2', async () => {
    const { code, stderr } = await apilake(['backfill', 'shop', '--from', '2024-01-02', '--to', '2024-01-01'], { cwd });
    expect(code).toBe(2);
    expect(stderr).toContain('--from 2024-01-02T00:00:00.000Z must be before --to');
  });

  it('exits 2 when the lake of a query is not a folder, and reads a missing lake as an empty one', async () => {
    await writeFile(join(cwd, 'a-file'), '');
    const file = await apilake(['query', 'select 1 as one', '--lake', 'a-file'], { cwd });
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('apilake: --lake a-file is not a folder');
    noStack(file.stderr);
    const missing = await apilake(['query', 'select 1 as one', '--lake', 'no-such-lake', '--format', 'json'], { cwd });
    expect(missing).toMatchObject({ code: 0, stdout: '{"one":1}\n' });
  });

  it('gc of a lake not made yet says there is nothing to collect, exit 0; of a file, exit 2', async () => {
    await writeFile(join(cwd, 'a-file'), '');
    const missing = await apilake(['gc', 'shop', '--lake', 'no-such-lake'], { cwd });
    expect(missing).toMatchObject({ code: 0, stdout: 'apilake gc shop: no lake at no-such-lake yet (nothing has landed there), so nothing to collect\n' });
    const file = await apilake(['gc', 'shop', '--lake', 'a-file'], { cwd });
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('apilake: --lake a-file is not a folder');
  });

  it.each([
    [['status', 'shop'], 'lake'],
    [['schema', 'suggest', 'shop'], 'lake'],
  ])('exits 2 when the lake a reading command opens is not a folder, or missing: %j', async (args) => {
    await writeFile(join(cwd, 'a-file'), '');
    for (const [lake, message] of [
      ['a-file', 'apilake: --lake a-file is not a folder\n  hint: --lake names the folder of a local lake'],
      ['no-such-lake', 'apilake: --lake no-such-lake: no such folder\n  hint: nothing has landed there'],
    ]) {
      const { code, stdout, stderr } = await apilake([...args, '--lake', lake!], { cwd });
      expect(code).toBe(2);
      expect(stderr).toContain(message);
      expect(stdout).toBe('');
      noStack(stderr);
    }
  });

  it('says which sources folder is missing, exit 2', async () => {
    const { code, stderr } = await apilake(['status', 'shop', '--sources', 'no-such-sources'], { cwd });
    expect(code).toBe(2);
    expect(stderr).toContain('no-such-sources: cannot read the sources folder: no such folder (--sources names the folder of the source files, default ./sources)');
  });

  it('says a demo lake that cannot be made before anything else, exit 2', async () => {
    await writeFile(join(cwd, 'not-a-folder'), '');
    const { code, stdout, stderr } = await apilake(['demo', '--lake', 'not-a-folder/lake'], { cwd });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('apilake: the lake folder cannot be used: cannot create the lake folder');
    noStack(stderr);
  });

  it('exits 2 with a hint when the demo port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr } = await apilake(['demo', '--serve', '--port', String(port)], { cwd });
      expect(code).toBe(2);
      expect(stderr).toContain(`apilake: port ${port} on 127.0.0.1 is already in use\n  hint: stop whatever listens there, or pick another port`);
      noStack(stderr);
    } finally {
      blocker.close();
    }
  });

  it('exits 2 with a hint when no AWS region is configured', async () => {
    const { code, stderr } = await apilakeWithoutAws(['query', '--remote', 'select 1']);
    expect(code).toBe(2);
    expect(stderr).toContain('apilake: no AWS region is configured\n  hint: set AWS_REGION');
    noStack(stderr);
  });

  it('exits 2 with a hint when there are no AWS credentials', async () => {
    const { code, stderr } = await apilakeWithoutAws(['query', '--remote', 'select 1'], { AWS_REGION: 'eu-west-1' });
    expect(code).toBe(2);
    expect(stderr).toContain('apilake: no AWS credentials found');
    expect(stderr).toContain('hint: sign in');
    noStack(stderr);
  });

  it.each([
    ['missing', (dir: string) => join(dir, 'nope.json'), /cannot read stack outputs from .*nope\.json \(ENOENT\): deploy with `npx cdk deploy --outputs-file/],
    ['not JSON', (dir: string) => join(dir, 'sources', 'shop.yaml'), /cannot read stack outputs from .*shop\.yaml: it is not JSON\n {2}hint: /],
    ['a folder', (dir: string) => join(dir, 'sources'), /cannot read stack outputs from .*sources \(EISDIR\)/],
  ])('exits 2 when the outputs file is %s', async (_, file, message) => {
    const { code, stderr } = await apilake(['redrive', '--outputs', file(cwd)], { cwd });
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    noStack(stderr);
  });

  it('exits 2 with a hint when the queue does not exist, and prints no SDK Node-version warning', async () => {
    const { code, stderr } = await apilake(['redrive', '--queue', `${moto.endpoint}/123456789012/missing`], { cwd, env: moto.env });
    expect(code).toBe(2);
    expect(stderr).toMatch(/apilake: not found while reading .*missing: QueueDoesNotExist/);
    expect(stderr).toContain('hint: check the name or URL you passed');
    expect(stderr).not.toContain('NodeVersionSupportWarning');
    noStack(stderr);
  });

  it('explains an AWS error the engine wrapped (a bucket that does not exist): exit 2, the stack only with APILAKE_DEBUG=1', async () => {
    const env = { ...moto.env, AWS_REGION: MOTO_AWS.region };
    const quiet = await apilake(['status', 'shop', '--bucket', 'no-such-bucket'], { cwd, env });
    expect(quiet.code).toBe(2);
    expect(quiet.stderr).toMatch(/no-such-bucket[\s\S]*\n {2}hint: check the name or URL you passed/);
    noStack(quiet.stderr);
    const debug = await apilake(['status', 'shop', '--bucket', 'no-such-bucket'], { cwd, env: { ...env, APILAKE_DEBUG: '1' } });
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});
