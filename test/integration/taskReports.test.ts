import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SfnTaskReports } from '../../functions/ingest/SfnTaskReports.js';
import { fitCause, TASK_CAUSE_MAX } from '../../functions/ingest/TaskReports.js';
import { LOCAL_AWS } from '../support/awsServers.js';
import { startTaskTokenServer, type TaskTokenServer } from '../support/taskTokenServer.js';

let server: TaskTokenServer;
let reports: SfnTaskReports;
beforeAll(async () => {
  server = await startTaskTokenServer();
  reports = new SfnTaskReports(new SFNClient({ ...LOCAL_AWS, endpoint: server.endpoint, maxAttempts: 1 }));
});
afterAll(() => server.close());

describe('the answers to a waiting Step Functions task', () => {
  it('sends the output of a success, and the error and cause of a failure, each once', async () => {
    const landed = server.wait();
    const failed = server.wait();
    expect(await reports.succeed(landed, '{"streams":[]}')).toBe('sent');
    expect(await reports.fail(failed, 'WindowsFailedError', '1 window(s) failed')).toBe('sent');
    expect(server.answers.slice(-2)).toEqual([
      { operation: 'SendTaskSuccess', taskToken: landed, output: '{"streams":[]}', reply: 'accepted' },
      { operation: 'SendTaskFailure', taskToken: failed, error: 'WindowsFailedError', cause: '1 window(s) failed', reply: 'accepted' },
    ]);
  });

  it.each([
    ['timed out', (token: string) => Promise.resolve(server.timeOut(token))],
    ['answered before', async (token: string) => void (await reports.succeed(token, '{}'))],
  ])('reports a task that %s as closed, without an error', async (_case, close) => {
    const token = server.wait();
    await close(token);
    expect(await reports.succeed(token, '{}')).toBe('closed');
    expect(await reports.fail(token, 'WindowsFailedError', 'x')).toBe('closed');
    expect(server.answers.at(-1)!.reply).toBe('TaskTimedOut');
  });

  it('reports a token Step Functions never issued as closed', async () => {
    expect(await reports.succeed('not-a-token', '{}')).toBe('closed');
    expect(server.answers.at(-1)!.reply).toBe('InvalidToken');
  });

  it('fails if the service fails, so the answer is tried again', async () => {
    const token = server.wait();
    server.failNext(1);
    await expect(reports.succeed(token, '{}')).rejects.toThrow();
    expect(await reports.succeed(token, '{}')).toBe('sent');
  });
});

describe('fitCause', () => {
  it.each([
    ['a short cause', 'x'.repeat(10), 'x'.repeat(10)],
    ['a cause of the limit', 'x'.repeat(TASK_CAUSE_MAX), 'x'.repeat(TASK_CAUSE_MAX)],
  ])('keeps %s whole', (_case, cause, fitted) => expect(fitCause(cause)).toBe(fitted));

  it.each([TASK_CAUSE_MAX + 1, 40_000, 5_000_000])('cuts a cause of %i characters to the limit, saying how much it cut', (length) => {
    const fitted = fitCause(`head ${'x'.repeat(length - 5)}`);
    expect(fitted.length).toBeLessThanOrEqual(TASK_CAUSE_MAX);
    expect(fitted.startsWith('head x')).toBe(true);
    const cut = Number(/ … \((\d+) more characters\)$/.exec(fitted)![1]);
    expect(fitted.length - ` … (${cut} more characters)`.length + cut).toBe(length);
  });
});
