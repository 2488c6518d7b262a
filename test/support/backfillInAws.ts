/**
 * A deployment of a source's backfill on loopback: moto's S3 (the lake bucket) and Step Functions
 * (the state machine, created from the same definition the stack deploys) behind the proxy that
 * ends executions, and a fake of the function's effect on the lake: a window's commit, skipped
 * when the window is committed unless the event forces it, as the function does.
 */

import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { BackfillEvent } from '../../cli/backfill/windowList.js';
import { manifestKey, partKey, windowManifestPrefix, type WindowRef } from '../../functions/sink/lakeLayout.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { buildManifest, serializeManifest } from '../../functions/sink/manifest.js';
import { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import { backfillDefinition } from '../../infra/backfillDefinition.js';
import { backfillResultsPrefix } from '../../infra/backfillLayout.js';
import { MOTO_AWS, type MotoServer } from './motoServer.js';
import { startStepFunctionsProxy, type StepFunctionsProxy } from './stepFunctionsProxy.js';

/** One source's backfill set-up. */
export interface BackfillDeployment {
  readonly bucket: string;
  readonly stateMachineArn: string;
  readonly storage: LakeStorage;
  readonly sfn: SFNClient;
  readonly proxy: StepFunctionsProxy;
  /** Environment of a CLI process that talks to this deployment. */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

export async function deployBackfill(moto: MotoServer, source: string, maxConcurrency = 3): Promise<BackfillDeployment> {
  const proxy = await startStepFunctionsProxy(moto.endpoint);
  const suffix = Math.random().toString(36).slice(2, 8);
  const bucket = `lake-${suffix}`;
  const s3 = new S3Client({ ...MOTO_AWS, endpoint: moto.endpoint, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  s3.destroy();
  const sfn = new SFNClient({ ...MOTO_AWS, endpoint: proxy.endpoint });
  const definition = backfillDefinition({
    source,
    targetArn: `arn:aws:lambda:us-east-1:123456789012:function:apilake-test-${source}:live`,
    bucketName: bucket,
    maxConcurrency,
    resultsPrefix: backfillResultsPrefix(source),
    windowTimeoutSeconds: 6 * 3600 + 900,
  });
  const created = await sfn.send(
    new CreateStateMachineCommand({ name: `apilake-test-${source}-backfill-${suffix}`, definition: JSON.stringify(definition), roleArn: 'arn:aws:iam::123456789012:role/backfill' }),
  );
  const storage = new S3LakeStorage({ bucket, client: new S3Client({ ...MOTO_AWS, endpoint: moto.endpoint, forcePathStyle: true }) });
  return {
    bucket,
    stateMachineArn: created.stateMachineArn!,
    storage,
    sfn,
    proxy,
    env: { ...moto.env, AWS_ENDPOINT_URL_SFN: proxy.endpoint },
    close: async () => {
      sfn.destroy();
      await proxy.close();
    },
  };
}

/** What the function leaves in the lake for one backfill event: a commit, or nothing when the window is committed and not forced. */
export async function landWindow(storage: LakeStorage, event: BackfillEvent, records = 10): Promise<'committed' | 'skipped'> {
  const ref: WindowRef = { source: event.source, stream: event.stream, window: { start: new Date(event.window.start), end: new Date(event.window.end) } };
  const commits = (await storage.list(windowManifestPrefix(ref))).length;
  if (commits > 0 && !event.force) return 'skipped';
  const runId = '20240101T120000Z-0123456789ab';
  const now = new Date();
  const manifest = buildManifest({
    ref,
    commit: commits + 1,
    runId,
    startedAt: new Date(now.getTime() - 1000),
    committedAt: now,
    parts: [{ key: partKey(ref, runId, 0), records, bytes: 100, sha256: 'a'.repeat(64) }],
    pages: 1,
    requests: 1,
    retries: 0,
    throttled: 0,
  });
  const created = await storage.putIfAbsent(manifestKey(ref, commits + 1), serializeManifest(manifest));
  return created === 'created' ? 'committed' : 'skipped';
}
