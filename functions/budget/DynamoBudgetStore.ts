/**
 * A source's shared budget in a DynamoDB table (key: `source` + `item`), two small items per
 * source so the slot queue and the leases never contend for one item's write throughput:
 *
 * - `rate`: `tat`, the theoretical arrival time of the next free slot. Booking k slots is one
 *   atomic update: `SET tat = tat + k·interval IF tat BETWEEN earliest AND latest` when the queue
 *   is busy, `SET tat = earliest + k·interval IF tat < earliest` when it is idle. No value is read
 *   first, so concurrent bookings never conflict (a compare-and-swap on a read value does, and
 *   collapses under contention).
 * - `inflight`: `leases` (id → expiry), `workers` (id → active until) and `pausedUntil`. A lease is
 *   `SET leases.#id IF (size(leases) < limit OR it is this lease, renewed) AND pausedUntil <= now`.
 *
 * Every rule matches budgetRules.ts, which the tests hold both stores to.
 */

import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { EXPIRED_LEASE_MARGIN_MS, type BookRequest, type Booking, type BudgetStore, type StoreCalls, type LeaseRequest, type LeaseView, type Leasing } from './BudgetStore.js';

/** Options of a {@link DynamoBudgetStore}. */
export interface DynamoBudgetStoreOptions {
  readonly table: string;
  /** The source whose budget this is: the items' partition key. */
  readonly source: string;
  /** @default a client that gives up within seconds (the budget then falls back to its share) */
  readonly client?: DynamoDBClient;
}

type Item = Record<string, AttributeValue>;
type Booked = Extract<Booking, { kind: 'booked' }>;

/**
 * Calls to the budget must fail fast: a request waits on them. Two attempts, a second to
 * connect, two to answer; the budget falls back to its share after that.
 */
export function budgetDynamoClient(config: { endpoint?: string; region?: string; credentials?: { accessKeyId: string; secretAccessKey: string } } = {}): DynamoDBClient {
  return new DynamoDBClient({ ...config, maxAttempts: 2, requestHandler: new NodeHttpHandler({ connectionTimeout: 1_000, requestTimeout: 2_000 }) });
}

/** The shared budget of one source in DynamoDB. */
export class DynamoBudgetStore implements BudgetStore {
  readonly location: string;
  readonly calls: StoreCalls = { writes: 0, reads: 0 };
  private readonly client: DynamoDBClient;
  /** Whether the queue looked idle at the last booking: that branch is tried first next time. */
  private idleFirst = true;

  constructor(private readonly options: DynamoBudgetStoreOptions) {
    this.client = options.client ?? budgetDynamoClient();
    this.location = `DynamoDB table ${options.table}`;
  }

  async book(request: BookRequest): Promise<Booking> {
    const inc = request.count * request.intervalMs;
    const busy = async (): Promise<Booked | undefined> => {
      const out = await this.update('rate', {
        UpdateExpression: 'SET tat = tat + :inc',
        ConditionExpression: 'tat BETWEEN :earliest AND :latest',
        ExpressionAttributeValues: { ':inc': num(inc), ':earliest': num(request.earliest), ':latest': num(request.latest) },
        ReturnValues: 'UPDATED_NEW',
      });
      return out && { kind: 'booked', first: Number(out.tat!.N) - inc };
    };
    const idle = async (): Promise<Booked | undefined> => {
      const out = await this.update('rate', {
        UpdateExpression: 'SET tat = :next',
        ConditionExpression: 'attribute_not_exists(tat) OR tat < :earliest',
        ExpressionAttributeValues: { ':next': num(request.earliest + inc), ':earliest': num(request.earliest) },
      });
      return out && { kind: 'booked', first: request.earliest };
    };
    const [first, second] = this.idleFirst ? [idle, busy] : [busy, idle];
    const booked = (await first()) ?? (await second());
    if (booked) {
      this.idleFirst = booked.first === request.earliest;
      return booked;
    }
    // Neither: the queue reaches past `latest` (or moved between the two writes; the caller retries).
    this.idleFirst = false;
    const item = await this.get('rate', true);
    return { kind: 'behind', nextFree: item?.tat ? Number(item.tat.N) : request.earliest };
  }

  async lease(request: LeaseRequest): Promise<Leasing> {
    const attempt = async () =>
      this.update('inflight', {
        UpdateExpression: 'SET leases.#lease = :expiry, workers.#worker = :active',
        ConditionExpression: '(size(leases) < :limit OR attribute_exists(leases.#lease)) AND (attribute_not_exists(pausedUntil) OR pausedUntil <= :now)',
        ExpressionAttributeNames: { '#lease': request.id, '#worker': request.worker },
        ExpressionAttributeValues: { ':expiry': num(request.expiresAt), ':active': num(request.workerExpiresAt), ':limit': num(request.limit), ':now': num(request.now) },
        ReturnValues: 'ALL_NEW',
      }).catch((error: unknown) => (isMissingPath(error) ? undefined : Promise.reject(error)));
    let granted = await attempt();
    if (granted) return { kind: 'leased', view: viewOf(granted) };
    let item = await this.get('inflight', true);
    if (!item?.leases || !item.workers) {
      // The first lease of the source: its maps are created, then the lease is asked for again.
      await this.update('inflight', {
        UpdateExpression: 'SET leases = if_not_exists(leases, :empty), workers = if_not_exists(workers, :empty)',
        ExpressionAttributeValues: { ':empty': { M: {} } },
      });
      granted = await attempt();
      if (granted) return { kind: 'leased', view: viewOf(granted) };
      item = await this.get('inflight', true);
    }
    const view = viewOf(item);
    const expired = Object.keys(view.leases).filter((id) => view.leases[id]! + EXPIRED_LEASE_MARGIN_MS < request.now);
    if (expired.length === 0) return { kind: 'refused', view };
    // Only the values seen are removed: a lease renewed meanwhile under the same id stays.
    await this.update('inflight', {
      UpdateExpression: `REMOVE ${expired.map((_, i) => `leases.#e${i}`).join(', ')}`,
      ConditionExpression: expired.map((_, i) => `leases.#e${i} = :e${i}`).join(' AND '),
      ExpressionAttributeNames: Object.fromEntries(expired.map((id, i) => [`#e${i}`, id])),
      ExpressionAttributeValues: Object.fromEntries(expired.map((id, i) => [`:e${i}`, num(view.leases[id]!)])),
    });
    granted = await attempt();
    if (granted) return { kind: 'leased', view: viewOf(granted) };
    return { kind: 'refused', view: viewOf(await this.get('inflight', true)) };
  }

  async peek(): Promise<LeaseView> {
    return viewOf(await this.get('inflight', false));
  }

  async release(leaseId: string, staleWorkers: readonly string[]): Promise<void> {
    const names: Record<string, string> = { '#lease': leaseId };
    staleWorkers.slice(0, 20).forEach((id, i) => (names[`#w${i}`] = id));
    const paths = Object.keys(names).map((n) => (n === '#lease' ? 'leases.#lease' : `workers.${n}`));
    try {
      await this.update('inflight', { UpdateExpression: `REMOVE ${paths.join(', ')}`, ExpressionAttributeNames: names });
    } catch (error) {
      if (!isMissingPath(error)) throw error; // no maps yet: nothing to release
    }
  }

  async pause(untilMs: number): Promise<void> {
    await Promise.all([
      this.update('inflight', {
        UpdateExpression: 'SET pausedUntil = :until',
        ConditionExpression: 'attribute_not_exists(pausedUntil) OR pausedUntil < :until',
        ExpressionAttributeValues: { ':until': num(untilMs) },
      }),
      this.update('rate', {
        UpdateExpression: 'SET tat = :until',
        ConditionExpression: 'attribute_not_exists(tat) OR tat < :until',
        ExpressionAttributeValues: { ':until': num(untilMs) },
      }),
    ]);
  }

  /** An update; `undefined` when its condition failed. */
  private async update(
    item: 'rate' | 'inflight',
    input: {
      UpdateExpression: string;
      ConditionExpression?: string;
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues?: Record<string, AttributeValue>;
      ReturnValues?: 'UPDATED_NEW' | 'ALL_NEW';
    },
  ): Promise<Item | undefined> {
    this.calls.writes++;
    try {
      const out = await this.client.send(new UpdateItemCommand({ TableName: this.options.table, Key: this.key(item), ...input }));
      return out.Attributes ?? {};
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }

  private async get(item: 'rate' | 'inflight', consistent: boolean): Promise<Item | undefined> {
    this.calls.reads++;
    const out = await this.client.send(new GetItemCommand({ TableName: this.options.table, Key: this.key(item), ConsistentRead: consistent }));
    return out.Item;
  }

  private key(item: 'rate' | 'inflight'): Item {
    return { source: { S: this.options.source }, item: { S: item } };
  }
}

/** DynamoDB's answer to a write into a map that does not exist yet. */
function isMissingPath(error: unknown): boolean {
  return (error as Error)?.name === 'ValidationException' && /document path/i.test((error as Error).message);
}

function num(value: number): AttributeValue {
  return { N: String(value) };
}

function numbers(value: AttributeValue | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(value?.M ?? {}).map(([k, v]) => [k, Number(v.N)]));
}

function viewOf(item: Item | undefined): LeaseView {
  return { leases: numbers(item?.leases), workers: numbers(item?.workers), pausedUntil: item?.pausedUntil ? Number(item.pausedUntil.N) : 0 };
}
