/**
 * The task side of Step Functions' callback pattern on loopback: tasks that wait for a token, and
 * the two API operations that answer them, SendTaskSuccess and SendTaskFailure (JSON 1.0 protocol,
 * as the SDK speaks it). moto_server accepts any answer to any token without checking it, so it
 * cannot show what a function does with a token that is no longer waited for; this server answers
 * as the API reference documents (API_SendTaskSuccess.html, API_SendTaskFailure.html, "Errors"):
 * the first answer to a waiting task closes it (HTTP 200, empty object); an answer to a task that
 * timed out or was answered before is `TaskTimedOut`, to a token it never issued `InvalidToken`
 * (both HTTP 400). It can also fail the next answers with HTTP 500, as a service fault would.
 */

import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readAwsJsonRequest } from './awsJsonRequest.js';
import { asyncListener, listenOnLoopback } from './listenOnLoopback.js';

/** One answer the server received, and what it replied. */
export interface TaskAnswer {
  readonly operation: 'SendTaskSuccess' | 'SendTaskFailure';
  readonly taskToken: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly reply: 'accepted' | 'TaskTimedOut' | 'InvalidToken' | 'ServiceFault';
}

export interface TaskTokenServer {
  readonly endpoint: string;
  /** Every answer received, in order. */
  readonly answers: TaskAnswer[];
  /** A new task that waits for an answer; returns its token. */
  wait(): string;
  /** The task gave up waiting (its TimeoutSeconds passed). */
  timeOut(taskToken: string): void;
  /** Fails the next `count` answers with HTTP 500, before looking at their token. */
  failNext(count: number): void;
  close(): Promise<void>;
}

export async function startTaskTokenServer(): Promise<TaskTokenServer> {
  const waiting = new Set<string>();
  const closed = new Set<string>();
  const answers: TaskAnswer[] = [];
  let faults = 0;
  const server = createServer(
    asyncListener(async (req, res) => {
      const { operation, input } = await readAwsJsonRequest(req);
      const body = input as { taskToken?: string; output?: string; error?: string; cause?: string };
      if (operation !== 'SendTaskSuccess' && operation !== 'SendTaskFailure') {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'UnknownOperationException', message: operation }));
        return;
      }
      const token = String(body.taskToken);
      const reply: TaskAnswer['reply'] = faults > 0 ? 'ServiceFault' : waiting.has(token) ? 'accepted' : closed.has(token) ? 'TaskTimedOut' : 'InvalidToken';
      answers.push({ operation, taskToken: token, ...pick(body), reply });
      if (reply === 'ServiceFault') {
        faults -= 1;
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'InternalFailure', message: 'service fault' }));
        return;
      }
      if (reply === 'accepted') {
        waiting.delete(token);
        closed.add(token);
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
        return;
      }
      const message = reply === 'TaskTimedOut' ? "Task Timed Out: 'Provided task does not exist anymore'" : 'Invalid Token';
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: reply, message }));
    }),
  );
  const listening = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${listening.port}`,
    answers,
    wait: () => {
      const token = randomBytes(96).toString('base64');
      waiting.add(token);
      return token;
    },
    timeOut: (token) => {
      waiting.delete(token);
      closed.add(token);
    },
    failNext: (count) => {
      faults = count;
    },
    close: listening.close,
  };
}

function pick(body: { output?: string; error?: string; cause?: string }): Pick<TaskAnswer, 'output' | 'error' | 'cause'> {
  return { ...(body.output === undefined ? {} : { output: body.output }), ...(body.error === undefined ? {} : { error: body.error }), ...(body.cause === undefined ? {} : { cause: body.cause }) };
}
