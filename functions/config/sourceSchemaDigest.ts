/** A fingerprint of the source schema, stamped on compiled definitions (`compiledSource.ts`). */

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { sourceSchema } from './sourceSchema.js';

let digest: string | undefined;

/**
 * The first 16 hex digits of the SHA-256 of the validated definition's JSON Schema (its output:
 * defaults filled). Any change of a field, a type or a default changes it.
 */
export function sourceSchemaDigest(): string {
  digest ??= createHash('sha256')
    .update(JSON.stringify(z.toJSONSchema(sourceSchema, { io: 'output', unrepresentable: 'any' })))
    .digest('hex')
    .slice(0, 16);
  return digest;
}
