/**
 * A job whose result is one file on another origin, for tests of file downloads: a job API that
 * says the job is done at its first poll and names the file on a {@link startBreakingFileServer}
 * host, and the source that lands it (bearer auth, the host as its only allowed origin).
 */

import { parseSource } from '../../functions/config/loadSources.js';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { startBreakingFileServer, type BreakingFileOptions, type BreakingFileServer } from './breakingFileServer.js';
import { startJsonServer, type JsonServer } from './jsonServer.js';

/** Starts the job API and the file host; the caller closes both. */
export async function startJobFileHost(file: BreakingFileOptions): Promise<{ api: JsonServer; files: BreakingFileServer }> {
  const files = await startBreakingFileServer(file);
  const api = await startJsonServer((request) => {
    if (request.method === 'POST') return { body: { id: 'job1' } };
    return { body: { id: 'job1', state: 'done', url: `${files.url}/file` } };
  });
  return { api, files };
}

/** A source document as {@link jobFileSource} builds it, for its `patch`. */
export type JobFileSourceDoc = Record<string, unknown> & { streams: (Record<string, unknown> & { job: Record<string, unknown> })[] };

/**
 * Source `exports`, stream `rows` (daily windows): creates the job, polls it, downloads the file
 * its poll names (`url`) from `files`. Its secret is `apilake/files`. `patch` edits the document first.
 */
export function jobFileSource(api: { url: string }, files: { url: string }, format: 'csv' | 'jsonl' | 'json', retry = 5, patch: (doc: JobFileSourceDoc) => void = () => undefined): SourceDefinition {
  return parseSource(jobFileSourceText(api, files, format, retry, patch), 'sources/exports.yaml');
}

/** The source document {@link jobFileSource} parses, as JSON text (a YAML file for a process that lands it). */
export function jobFileSourceText(api: { url: string }, files: { url: string }, format: 'csv' | 'jsonl' | 'json', retry = 5, patch: (doc: JobFileSourceDoc) => void = () => undefined): string {
  const doc: JobFileSourceDoc = {
    name: 'exports',
    schedule: 'rate(1 day)',
    base_url: api.url,
    auth: { type: 'bearer', secret: 'apilake/files' },
    redirects: { allowed_origins: [files.url] },
    retry: { max_attempts: retry, base_delay_ms: 10 },
    streams: [
      {
        name: 'rows',
        window: '1d',
        format,
        job: {
          create: { method: 'POST', path: '/jobs', body: { since: '{window.start}' } },
          id: 'id',
          poll: { path: '/jobs/{job.id}', every: '1s', timeout: '1h' },
          done_when: "state == 'done'",
          download: { urls: 'url' },
        },
      },
    ],
  };
  patch(doc);
  return JSON.stringify(doc);
}
