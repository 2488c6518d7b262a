/**
 * {@link TaskReports} on the Step Functions API. A token Step Functions no longer waits for is a
 * `closed` outcome, not an error: retrying could never succeed (the task timed out, or a
 * duplicate delivery of the event answered it first).
 */

import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { TaskReportOutcome, TaskReports } from './TaskReports.js';

/** The API's errors for a token it no longer waits for (SendTaskSuccess, "Errors"); a malformed token is InvalidToken too. */
const CLOSED = new Set(['InvalidToken', 'TaskTimedOut', 'TaskDoesNotExist']);

/**
 * @example
 * const reports = new SfnTaskReports(new SFNClient({}));
 * await reports.succeed(event.taskToken, JSON.stringify(summary));
 */
export class SfnTaskReports implements TaskReports {
  constructor(private readonly client: SFNClient) {}

  async succeed(taskToken: string, output: string): Promise<TaskReportOutcome> {
    return this.send(() => this.client.send(new SendTaskSuccessCommand({ taskToken, output })));
  }

  async fail(taskToken: string, error: string, cause: string): Promise<TaskReportOutcome> {
    return this.send(() => this.client.send(new SendTaskFailureCommand({ taskToken, error, cause })));
  }

  private async send(call: () => Promise<unknown>): Promise<TaskReportOutcome> {
    try {
      await call();
      return 'sent';
    } catch (error) {
      if (error instanceof Error && CLOSED.has(error.name)) return 'closed';
      throw error;
    }
  }
}
