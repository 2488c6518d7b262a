/** The function's configuration, read once from its environment and validated completely. */

import { z } from 'zod';
import { parseSource } from '../config/loadSources.js';
import type { SourceDefinition } from '../config/sourceSchema.js';
import { ApilakeError } from '../errors.js';

/** Environment variables the deployed function reads. */
export const ENV = {
  /** The validated source definition as JSON; inlined into the bundle at deploy time. */
  source: 'APILAKE_SOURCE_JSON',
  bucket: 'APILAKE_BUCKET',
  prefix: 'APILAKE_LAKE_PREFIX',
  idempotencyTable: 'APILAKE_IDEMPOTENCY_TABLE',
  deadlineMarginMs: 'APILAKE_DEADLINE_MARGIN_MS',
} as const;

/** What the handler needs to run. */
export interface RuntimeConfig {
  readonly source: SourceDefinition;
  readonly bucket: string;
  readonly prefix: string;
  readonly idempotencyTable: string;
  /** Stop starting pages when less than this much time remains. */
  readonly deadlineMarginMs: number;
}

const envSchema = z.object({
  [ENV.source]: z.string().min(2, 'required: the source definition (set by the CDK app)'),
  [ENV.bucket]: z.string().min(3, 'required: the lake bucket name'),
  [ENV.prefix]: z.string().default(''),
  [ENV.idempotencyTable]: z.string().min(3, 'required: the idempotency table name'),
  [ENV.deadlineMarginMs]: z.coerce.number().int().min(1_000).default(20_000),
});

/**
 * The source definition compiled into the bundle. Written as the literal expression
 * `process.env.APILAKE_SOURCE_JSON` because that is what the bundler's `define` replaces;
 * outside a bundle it reads the environment.
 */
function bundledSourceJson(): string | undefined {
  return process.env.APILAKE_SOURCE_JSON;
}

/** @throws ApilakeError naming every missing or invalid variable. */
export function readRuntimeConfig(env: Readonly<Record<string, string | undefined>> = process.env): RuntimeConfig {
  const parsed = envSchema.safeParse({ ...env, [ENV.source]: env[ENV.source] || bundledSourceJson() });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.input === undefined ? 'required' : i.message}`);
    throw new ApilakeError(`function misconfigured: ${problems.join('; ')}`);
  }
  const values = parsed.data;
  return {
    source: parseSource(values[ENV.source], `${ENV.source} (bundled source definition)`),
    bucket: values[ENV.bucket],
    prefix: values[ENV.prefix],
    idempotencyTable: values[ENV.idempotencyTable],
    deadlineMarginMs: values[ENV.deadlineMarginMs],
  };
}
