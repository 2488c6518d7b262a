/**
 * A local lake on a full disk, on a read-only file system, and at a path that cannot exist:
 * clear errors, nothing visible, nothing left behind, and no API call when the lake is unusable.
 */

import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { collectGarbage } from '../../../functions/sink/collectGarbage.js';
import { ORPHAN_HORIZON_MS } from '../../../functions/sink/commitProtocol.js';
import { FsLakeStorage } from '../../../functions/sink/FsLakeStorage.js';
import { ageFiles } from '../../support/ageFiles.js';
import { spawnApilake } from '../../support/cliProcess.js';
import { listFiles } from '../../support/lakeReader.js';
import { auditLake } from '../lakeAudit.js';
import { expectation, hours, record, report, runCli, SECRET_ENV, startFaultApi, workspace, type ScenarioReport } from '../harness.js';

const WINDOWS = hours(0, 3);

/** Mounts a tmpfs (as root, here and in CI); undefined when this process may not mount. */
function mountTmpfs(dir: string, options: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function umount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

/** `apilake run` under a 48 KiB file size limit (writes past it fail with EFBIG), for machines that cannot mount. */
function runWithFileSizeLimit(ws: { dir: string; lake: string; sources: string }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const bin = fileURLToPath(new URL('../../../bin/apilake.mjs', import.meta.url));
  const args = ['run', 'faults', '--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T03:00:00Z', '--lake', ws.lake, '--sources', ws.sources];
  const child = spawn('sh', ['-c', 'ulimit -f 96 && exec "$@"', 'sh', process.execPath, bin, ...args], { cwd: ws.dir, env: { ...process.env, ...SECRET_ENV } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

export async function localDisk(): Promise<ScenarioReport> {
  const row = report('local lake: full disk, read-only, impossible path');
  const api = await startFaultApi(0);
  try {
    // Full disk: a 48 KiB file system fills during the first windows.
    {
      const ws = await workspace(api.url);
      await mkdir(ws.lake);
      const mounted = mountTmpfs(ws.lake, 'size=48k');
      // Without mount rights, a file size limit makes writes fail the same way (EFBIG).
      const result = mounted ? await runCli(ws, ws.sources, 0, 3).done() : await runWithFileSizeLimit(ws);
      row.trials++;
      row.faults++;
      if (result.code !== 1) row.violations.push(`full disk: exit ${result.code}, expected 1 (a window failed)`);
      if (!/no space left|file too large/.test(result.stdout + result.stderr)) row.violations.push(`full disk: the error does not name the cause: ${result.stdout.slice(-300)}`);
      const storage = new FsLakeStorage(ws.lake);
      const audit = await auditLake(storage, expectation(api, WINDOWS, { outputs: [result.stdout, result.stderr] }));
      record(row, audit, 'full disk');
      row.failed += audit.notCommitted;
      row.committed += audit.committed;
      row.asExpected += audit.notCommitted + audit.committed;
      const temps = (await listFiles(ws.lake)).filter((k) => k.split('/').pop()!.startsWith('.'));
      if (temps.length > 0) row.violations.push(`full disk: temp files left: ${temps.join(', ')}`);
      if (mounted) execFileSync('mount', ['-o', 'remount,size=64m', ws.lake]);
      const rerun = await runCli(ws, ws.sources, 0, 3).done();
      if (rerun.code !== 0) row.violations.push(`full disk: the re-run with space exited ${rerun.code}`);
      // Hours later by the storage's clock: every file of this trial is past the horizon.
      await ageFiles(ws.lake, ORPHAN_HORIZON_MS + 60_000);
      await collectGarbage(storage, 'faults', { streams: ['items'] });
      record(row, await auditLake(storage, expectation(api, WINDOWS, { mustCommit: true, afterGc: true })), 'full disk, then space');
      if (mounted) umount(ws.lake);
    }

    // Read-only lake: refused before any API call, exit 2.
    {
      const ws = await workspace(api.url);
      await mkdir(ws.lake);
      const mounted = mountTmpfs(ws.lake, 'ro,size=1m');
      if (!mounted) await chmod(ws.lake, 0o555);
      const requests = api.requests.length;
      const result = await runCli(ws, ws.sources, 0, 3).done();
      row.trials++;
      row.faults++;
      if (result.code !== 2) row.violations.push(`read-only lake: exit ${result.code}, expected 2`);
      if (!/read-only file system|permission denied/.test(result.stderr)) row.violations.push(`read-only lake: unclear error: ${result.stderr.slice(0, 300)}`);
      if (api.requests.length !== requests) row.violations.push(`read-only lake: ${api.requests.length - requests} API calls before the lake was found unusable`);
      row.asExpected++;
      if (mounted) umount(ws.lake);
    }

    // A lake under /proc: Node's recursive mkdir spins forever there; apilake must answer at once.
    {
      const ws = await workspace(api.url);
      const started = Date.now();
      const cli = spawnApilake(['run', 'faults', '--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T01:00:00Z', '--lake', join('/proc', 'apilake-lake'), '--sources', ws.sources], {
        cwd: ws.dir,
        env: SECRET_ENV,
      });
      const timer = setTimeout(() => cli.child.kill('SIGKILL'), 20_000);
      const result = await cli.done();
      clearTimeout(timer);
      row.trials++;
      if (result.code !== 2) row.violations.push(`--lake /proc/…: exit ${result.code} after ${Date.now() - started} ms, expected 2 at once`);
      if (!/cannot create the lake folder/.test(result.stderr)) row.violations.push(`--lake /proc/…: unclear error: ${result.stderr.slice(0, 300)}`);
      row.asExpected++;
    }
  } finally {
    await api.close();
  }
  return row;
}
