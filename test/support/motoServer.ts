/**
 * moto_server (Python moto 5.2, installed on every machine here and in CI) on a free loopback
 * port: the local AWS that implements S3 conditional writes (`If-None-Match`, `If-Match`),
 * Secrets Manager, SQS, DynamoDB, Glue, Athena and Scheduler APIs. One server per test file;
 * each test isolates itself with its own bucket, secret or queue names.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Credentials and region every client of the local server uses. */
export const MOTO_AWS = { region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } } as const;

/** A running moto server. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Environment variables that point SDK clients (and the CLI) at this server. */
  readonly env: Readonly<Record<string, string>>;
  /** Forgets every resource (moto's reset API), for test isolation. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;

/** Starts `moto_server` and resolves once it accepts requests. */
export async function startMoto(): Promise<MotoServer> {
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true' } });
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`moto_server did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(new Error(`moto_server could not start (is Python moto installed? \`moto_server --help\`): ${error.message}`));
    };
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`exited with code ${code}`)));
    // Werkzeug prints " * Running on http://127.0.0.1:<port>" on stderr once it listens.
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
        if (match) {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          resolve(match[1]!);
        }
      });
    }
  });
  return {
    endpoint,
    env: {
      AWS_REGION: MOTO_AWS.region,
      AWS_ACCESS_KEY_ID: MOTO_AWS.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_AWS.credentials.secretAccessKey,
      AWS_ENDPOINT_URL: endpoint,
      APILAKE_S3_FORCE_PATH_STYLE: 'true',
    },
    reset: async () => {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
    },
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
  });
}
