/**
 * The claims' store in DynamoDB: Powertools' DynamoDB persistence layer, plus the conditional
 * delete a take-over needs (windowClaim.ts). It reads and writes Powertools' own item layout
 * (`@aws-lambda-powertools/idempotency` 2.x, `persistence/DynamoDBPersistenceLayer` and
 * `constants`): the item's key is `getKey(getHashedIdempotencyKey(data))` (partition key `id`
 * unless `keyAttr` says otherwise, or a static partition key with a sort key when `sortKeyAttr`
 * is set), and a completed record keeps the function's response as a map in the `data` attribute
 * (`dataAttr`), so a claim's holder is at `data.execution`.
 */

import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBPersistenceOptionsWithClientInstance } from '@aws-lambda-powertools/idempotency/dynamodb/types';
import { DeleteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ClaimStore, WindowKey } from './windowClaim.js';

/** Powertools' default name of the attribute holding a record's response (`PERSISTENCE_ATTRIBUTE_KEY_MAPPINGS.dataAttr`). */
const DEFAULT_DATA_ATTR = 'data';

/** The table and client of the store: the client is shared with Powertools' layer, not created twice. */
export type DynamoClaimStoreOptions = DynamoDBPersistenceOptionsWithClientInstance & { readonly awsSdkV3Client: DynamoDBClient };

/**
 * @example
 * const store = new DynamoClaimStore({ tableName: 'apilake-idempotency', awsSdkV3Client: new DynamoDBClient({}) });
 * await store.deleteIfHeldBy(key, endedExecutionArn);
 */
export class DynamoClaimStore extends DynamoDBPersistenceLayer implements ClaimStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #dataAttr: string;

  constructor(options: DynamoClaimStoreOptions) {
    super(options);
    this.#client = options.awsSdkV3Client;
    this.#tableName = options.tableName;
    this.#dataAttr = options.dataAttr ?? DEFAULT_DATA_ATTR;
  }

  async deleteIfHeldBy(key: WindowKey, holder: string): Promise<boolean> {
    try {
      await this.#client.send(
        new DeleteItemCommand({
          TableName: this.#tableName,
          Key: this.getKey(this.getHashedIdempotencyKey(key)),
          // An in-progress record has no response yet, so it never matches: a claim being created is never deleted.
          ConditionExpression: '#data.#execution = :holder',
          ExpressionAttributeNames: { '#data': this.#dataAttr, '#execution': 'execution' },
          ExpressionAttributeValues: { ':holder': { S: holder } },
        }),
      );
      return true;
    } catch (error) {
      // By name: the error class may come from another copy of the SDK than this module's.
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
