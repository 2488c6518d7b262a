/**
 * The function's configuration, read once from its environment and checked completely.
 *
 * The source definition is validated when the CDK app synthesizes the function and compiled into
 * the bundle as data (`define`), stamped with the schema it was validated against and its
 * SHA-256 (`config/compiledSource.ts`). The function ships neither the schema library nor the
 * YAML parser (importing the schema alone would more than double its start-up): at its first
 * invocation it checks the stamp, which catches a definition compiled by another apilake
 * version, one written or edited by hand, or a plain one set in the environment.
 */

import { readCompiledSource } from '../config/compiledSource.js';
import type { SourceDefinition } from '../config/sourceSchema.js';
import { ApilakeError } from '../errors.js';

/** Environment variables the deployed function reads. */
export const ENV = {
  /** The validated source definition, compiled (stamped JSON); inlined into the bundle at deploy time. */
  source: 'APILAKE_SOURCE_JSON',
  /** The digest of the source schema the function was built with (`sourceSchemaDigest`); inlined into the bundle at deploy time. */
  sourceSchema: 'APILAKE_SOURCE_SCHEMA',
  bucket: 'APILAKE_BUCKET',
  prefix: 'APILAKE_LAKE_PREFIX',
  idempotencyTable: 'APILAKE_IDEMPOTENCY_TABLE',
  /** The table of the rate budget every invocation of the source shares; without it each invocation has its own. */
  budgetTable: 'APILAKE_BUDGET_TABLE',
  deadlineMarginMs: 'APILAKE_DEADLINE_MARGIN_MS',
} as const;

/** What the handler needs to run. */
export interface RuntimeConfig {
  readonly source: SourceDefinition;
  readonly bucket: string;
  readonly prefix: string;
  readonly idempotencyTable: string;
  /** The shared rate budget's table, when the deployment has one. */
  readonly budgetTable?: string;
  /** Stop starting pages when less than this much time remains. */
  readonly deadlineMarginMs: number;
}

/** @default of APILAKE_DEADLINE_MARGIN_MS */
export const DEFAULT_DEADLINE_MARGIN_MS = 20_000;

/**
 * The source definition compiled into the bundle. Written as the literal expression
 * `process.env.APILAKE_SOURCE_JSON` because that is what the bundler's `define` replaces;
 * outside a bundle it reads the environment.
 */
function bundledSourceJson(): string | undefined {
  return process.env.APILAKE_SOURCE_JSON;
}

/** The digest of the schema the bundle was built with, compiled in the same way as the definition. */
function bundledSchemaDigest(): string | undefined {
  return process.env.APILAKE_SOURCE_SCHEMA;
}

/** @throws ApilakeError naming every missing or invalid variable. */
export function readRuntimeConfig(env: Readonly<Record<string, string | undefined>> = process.env): RuntimeConfig {
  const problems: string[] = [];
  const required = (name: string, minLength: number, what: string) => {
    const value = env[name] ?? '';
    if (value.length < minLength) problems.push(`${name}: ${value === '' ? `required: ${what}` : `too short for ${what}`}`);
    return value;
  };
  const sourceJson = env[ENV.source] || bundledSourceJson() || '';
  const schema = bundledSchemaDigest() || env[ENV.sourceSchema] || '';
  let source: SourceDefinition | undefined;
  if (sourceJson === '') problems.push(`${ENV.source}: required: the source definition (set by the CDK app)`);
  else if (schema !== '') {
    const compiled = readCompiledSource(sourceJson, schema);
    if ('problem' in compiled) problems.push(`${ENV.source}: ${compiled.problem}`);
    else source = compiled.source;
  }
  if (schema === '') problems.push(`${ENV.sourceSchema}: required: the digest of the source schema (set by the CDK app)`);
  const bucket = required(ENV.bucket, 3, 'the lake bucket name');
  const idempotencyTable = required(ENV.idempotencyTable, 3, 'the idempotency table name');
  const marginText = env[ENV.deadlineMarginMs];
  const deadlineMarginMs = marginText === undefined || marginText === '' ? DEFAULT_DEADLINE_MARGIN_MS : Number(marginText);
  if (!Number.isInteger(deadlineMarginMs) || deadlineMarginMs < 1_000) problems.push(`${ENV.deadlineMarginMs}: expected an integer of at least 1000 (ms), received "${marginText}"`);
  const budgetTable = env[ENV.budgetTable] || undefined;
  if (budgetTable !== undefined && budgetTable.length < 3) problems.push(`${ENV.budgetTable}: too short for the budget table name`);
  if (problems.length > 0) throw new ApilakeError(`function misconfigured: ${problems.join('; ')}`);
  return { source: source!, bucket, prefix: env[ENV.prefix] ?? '', idempotencyTable, ...(budgetTable ? { budgetTable } : {}), deadlineMarginMs };
}
