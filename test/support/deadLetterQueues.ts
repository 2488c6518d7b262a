/**
 * A dead-letter queue on moto's SQS for redrive tests: moto runs for the test file, and each test
 * gets a fresh queue holding the letters it asks for.
 */

import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll } from 'vitest';
import { sendAll, type DeadLetterMessage } from './deadLetters.js';
import { MOTO_AWS, startMoto, type MotoServer } from './motoServer.js';

/** What a test file's queues offer. */
export interface DeadLetterQueues {
  /** A new queue holding `letters`, and the client to read it with. */
  fresh(letters: readonly DeadLetterMessage[]): Promise<{ sqs: SQSClient; queueUrl: string }>;
  /** Messages visible and hidden (received, not yet visible again) in the queue. */
  counts(queueUrl: string): Promise<{ visible: number; hidden: number }>;
}

/** Starts moto's SQS before the file's tests and stops it after them. */
export function useDeadLetterQueues(): DeadLetterQueues {
  let moto: MotoServer;
  let sqs: SQSClient;
  beforeAll(async () => {
    moto = await startMoto();
    sqs = new SQSClient({ ...MOTO_AWS, endpoint: moto.endpoint });
  });
  afterAll(async () => {
    sqs.destroy();
    await moto.stop();
  });
  return {
    fresh: async (letters) => {
      const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `dlq-${Math.random().toString(36).slice(2, 8)}` }))).QueueUrl!;
      await sendAll(sqs, queueUrl, letters);
      return { sqs, queueUrl };
    },
    counts: async (queueUrl) => {
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      return { visible: Number(Attributes!.ApproximateNumberOfMessages), hidden: Number(Attributes!.ApproximateNumberOfMessagesNotVisible) };
    },
  };
}
