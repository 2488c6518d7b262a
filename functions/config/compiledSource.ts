/**
 * The source definition as `cdk synth` compiles it into a function: the validated definition,
 * every default filled, under a stamp saying which schema it was validated against and the
 * SHA-256 of its JSON. The function checks the stamp at cold start instead of validating again:
 * the schema library would more than double its start-up (it ships without it).
 */

import { createHash } from 'node:crypto';
import type { SourceDefinition } from './sourceSchema.js';

/** The version of the compiled shape (the stamp and its envelope). */
export const COMPILED_SOURCE_FORMAT = 1;

/** What synth writes beside the definition. */
export interface CompiledStamp {
  readonly by: 'apilake';
  readonly format: number;
  /** {@link sourceSchemaDigest} of the apilake that validated the definition. */
  readonly schema: string;
  /** SHA-256 (hex) of the definition's JSON as compiled. */
  readonly sha256: string;
}

/** The JSON a function receives: `{"compiled": <stamp>, "source": <definition>}`. */
export interface CompiledSource {
  readonly compiled: CompiledStamp;
  readonly source: SourceDefinition;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The compiled JSON of a definition validated against the schema of digest `schema`. */
export function compileSource(source: SourceDefinition, schema: string): string {
  const json = JSON.stringify(source);
  return `{"compiled":${JSON.stringify({ by: 'apilake', format: COMPILED_SOURCE_FORMAT, schema, sha256: sha256(json) } satisfies CompiledStamp)},"source":${json}}`;
}

/** Why a compiled source cannot be used, for `function misconfigured: …`. */
export type CompiledSourceCheck = { readonly source: SourceDefinition } | { readonly problem: string };

/**
 * Checks a compiled definition against the schema this code was built for. Names what is wrong
 * and what was expected, never a value of the definition.
 */
export function readCompiledSource(json: string, expectedSchema: string): CompiledSourceCheck {
  const redeploy = 'deploy the function again (cdk deploy) instead of setting it by hand';
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { problem: `not JSON (${(error as Error).message}); expected the definition cdk synth compiles in` };
  }
  const { compiled, source } = (value ?? {}) as Partial<Record<keyof CompiledSource, unknown>>;
  const stamp = compiled as Partial<CompiledStamp> | undefined;
  if (typeof value !== 'object' || Array.isArray(value) || typeof stamp !== 'object' || stamp === null || stamp.by !== 'apilake') {
    return {
      problem: `not a compiled source definition: no "compiled" stamp (a definition written by hand, or compiled by an apilake before stamps); expected {"compiled": {...}, "source": {...}} as cdk synth writes it: ${redeploy}`,
    };
  }
  if (stamp.format !== COMPILED_SOURCE_FORMAT) return { problem: `compiled in format ${String(stamp.format)}, this function reads format ${COMPILED_SOURCE_FORMAT}: ${redeploy}` };
  if (stamp.schema !== expectedSchema) {
    return { problem: `compiled by another apilake version (schema ${String(stamp.schema)}, this function's is ${expectedSchema}): its fields and defaults may differ; ${redeploy}` };
  }
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return { problem: `"source" is missing or not an object: ${redeploy}` };
  if (sha256(JSON.stringify(source)) !== stamp.sha256) return { problem: `"source" was edited after it was compiled (its SHA-256 differs from the stamp's): ${redeploy}` };
  return { source: source as SourceDefinition };
}
