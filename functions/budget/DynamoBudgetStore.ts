/**
 * A source's slot queue in a DynamoDB table (partition key `source`): one item per source
 * holding `tat`, the start of the queue's next free slot. Booking k slots is one
 * conditional update, never a read followed by a compare-and-swap (which collapses under
 * contention):
 *
 * - busy queue: `SET tat = tat + k·interval IF tat BETWEEN earliest AND latest`;
 * - idle queue: `SET tat = earliest + k·interval IF attribute_not_exists(tat) OR tat < earliest`.
 *
 * `tat` only grows under both, so when neither applies the queue reaches past `latest`. Each
 * write also sets `expires_at` (the table's TTL attribute, epoch seconds) a day after `tat`, so
 * the items of sources no longer landed go away by themselves.
 */

import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { BUDGET_TABLE, type BudgetStore, type StoreCalls } from './BudgetStore.js';
import type { BookRequest, Booking } from './slotQueue.js';

const TTL_AFTER_SECONDS = 86_400;

/** Options of a {@link DynamoBudgetStore}. */
export interface DynamoBudgetStoreOptions {
  readonly table: string;
  /** The source whose budget this is: the item's partition key. */
  readonly source: string;
  /** @default {@link budgetDynamoClient}() */
  readonly client?: DynamoDBClient;
}

/**
 * A client for the budget table that gives up within seconds (a request waits on it; the budget
 * falls back to its share after that): two attempts, one second to connect, two to answer.
 */
export function budgetDynamoClient(config: { endpoint?: string; region?: string; credentials?: { accessKeyId: string; secretAccessKey: string } } = {}): DynamoDBClient {
  return new DynamoDBClient({ ...config, maxAttempts: 2, requestHandler: new NodeHttpHandler({ connectionTimeout: 1_000, requestTimeout: 2_000 }) });
}

/** The slot queue of one source in DynamoDB. */
export class DynamoBudgetStore implements BudgetStore {
  readonly location: string;
  readonly calls: StoreCalls = { writes: 0, reads: 0 };
  private readonly client: DynamoDBClient;
  /** Whether the queue was idle at the last booking: that write is tried first next time. */
  private idleFirst = true;
  /** The highest `tat` this store has seen: the queue's `tat` is at least this (it only grows). */
  private knownTat = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: DynamoBudgetStoreOptions) {
    this.client = options.client ?? budgetDynamoClient();
    this.location = `DynamoDB table ${options.table}`;
  }

  async book(request: BookRequest): Promise<Booking> {
    const span = request.count * request.intervalMs;
    const busy = async (): Promise<Booking | undefined> => {
      const tat = await this.update('SET tat = tat + :span', 'tat BETWEEN :earliest AND :latest', { ':span': span, ':earliest': request.earliest, ':latest': request.latest });
      return tat === undefined ? undefined : { kind: 'booked', first: tat - span };
    };
    const idle = async (): Promise<Booking | undefined> => {
      const tat = await this.update('SET tat = :next', 'attribute_not_exists(tat) OR tat < :earliest', { ':next': request.earliest + span, ':earliest': request.earliest });
      return tat === undefined ? undefined : { kind: 'booked', first: request.earliest };
    };
    // What is known of `tat` saves writes bound to fail: past `latest`, nothing can be booked;
    // at or past `earliest`, the idle write cannot apply.
    if (this.knownTat > request.latest) return { kind: 'behind', nextFree: this.knownTat };
    const idleFirst = this.idleFirst && this.knownTat < request.earliest;
    const booked = idleFirst ? ((await idle()) ?? (await busy())) : ((await busy()) ?? (this.knownTat < request.earliest ? await idle() : undefined));
    if (booked?.kind === 'booked') {
      this.idleFirst = booked.first === request.earliest;
      this.knownTat = Math.max(this.knownTat, booked.first + span);
      return booked;
    }
    this.idleFirst = false;
    this.calls.reads++;
    const out = await this.client.send(new GetItemCommand({ TableName: this.options.table, Key: this.key(), ConsistentRead: true, ProjectionExpression: 'tat' }));
    this.knownTat = Math.max(this.knownTat, Number(out.Item?.tat?.N ?? request.latest));
    return { kind: 'behind', nextFree: this.knownTat };
  }

  async pause(untilMs: number): Promise<void> {
    if (this.knownTat >= untilMs) return;
    await this.update('SET tat = :until', 'attribute_not_exists(tat) OR tat < :until', { ':until': untilMs });
    this.knownTat = untilMs;
  }

  /** One conditional update of the queue's item: `tat` after it, or undefined when the condition failed. */
  private async update(set: string, condition: string, values: Record<string, number>): Promise<number | undefined> {
    this.calls.writes++;
    const attributes: Record<string, AttributeValue> = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, { N: String(value) }]));
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.table,
          Key: this.key(),
          // expires_at trails tat by a day, in seconds; set from the values at hand (one expression cannot divide).
          UpdateExpression: `${set}, #ttl = :ttl`,
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#ttl': BUDGET_TABLE.ttlAttribute },
          ExpressionAttributeValues: { ...attributes, ':ttl': { N: String(Math.ceil(Math.max(...Object.values(values)) / 1000) + TTL_AFTER_SECONDS) } },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(out.Attributes?.tat?.N);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }

  private key(): Record<string, AttributeValue> {
    return { [BUDGET_TABLE.partitionKey]: { S: this.options.source } };
  }
}
