/** Finds the deployed resources from `cdk deploy --outputs-file` so users never copy names by hand. */

import { readFile } from 'node:fs/promises';
import { InputError } from '../../functions/index.js';
import { inputError } from '../errors/hint.js';
import { functionOutputKey, OUTPUT, STAGE_NAME } from '../../infra/outputs.js';

/** Flags every remote command accepts. */
export interface RemoteOptions {
  /** The outputs file written by `cdk deploy --outputs-file`. @default cdk-outputs.json */
  readonly outputs?: string;
  /** Picks stack `apilake-<stage>` in the outputs file. @default the only apilake stack in it */
  readonly stage?: string;
}

/** The outputs of one deployed stack. */
export type StackOutputs = Readonly<Record<string, string>>;

/**
 * Reads the stack's outputs; a flag given explicitly never needs this.
 * @throws InputError saying how to produce the file or which flag to pass instead.
 */
export async function readStackOutputs(options: RemoteOptions, neededFor: string): Promise<StackOutputs> {
  const file = options.outputs ?? 'cdk-outputs.json';
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw inputError(
      `cannot read stack outputs from ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): deploy with \`npx cdk deploy --outputs-file ${file}\``,
      `or point at the file with --outputs FILE (and --stage S), or pass ${neededFor}`,
      { cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw inputError(`cannot read stack outputs from ${file}: it is not JSON`, `pass the file \`npx cdk deploy --outputs-file FILE\` wrote, or ${neededFor}`, { cause: error });
  }
  if (!isObject(parsed)) throw inputError(`cannot read stack outputs from ${file}: expected an object of stacks`, `pass the file \`npx cdk deploy --outputs-file FILE\` wrote, or ${neededFor}`);
  const stacks = Object.keys(parsed).filter((name) => name.startsWith('apilake-'));
  const wanted = options.stage ? `apilake-${options.stage}` : stacks.length === 1 ? stacks[0] : undefined;
  const outputs = wanted === undefined ? undefined : parsed[wanted];
  const held = stacks.join(', ') || 'none';
  // A name no stage can have gets no deploy command to copy: cdk would refuse it.
  if (options.stage && !outputs && !STAGE_NAME.test(options.stage)) {
    throw new InputError(`--stage ${JSON.stringify(options.stage)} is not a stage name: a stage matches ${STAGE_NAME.source.slice(1, -1)} (${file} holds ${held})`);
  }
  if (options.stage && !outputs) {
    throw new InputError(
      `--stage ${options.stage}: ${file} holds no stack ${wanted} (it holds ${held}): deploy that stage with \`npx cdk deploy -c stage=${options.stage} --outputs-file ${file}\`, pick another --stage, or pass ${neededFor}`,
    );
  }
  if (!wanted || !outputs) throw new InputError(`${file} holds stacks ${held}: pick one with --stage, or pass ${neededFor}`);
  if (!isOutputs(outputs)) {
    throw inputError(
      `cannot read stack outputs from ${file}: stack ${wanted} is not an object of output names to text values`,
      `pass the file \`npx cdk deploy --outputs-file FILE\` wrote, or ${neededFor}`,
    );
  }
  return outputs;
}

/** One output, or an error naming it. */
export function requireOutput(outputs: StackOutputs, key: string, flag: string): string {
  const value = outputs[key];
  if (!value) throw new InputError(`the stack outputs have no ${key}; pass ${flag}`);
  return value;
}

/** The deployed function of a source. */
export async function resolveFunctionName(source: string, options: RemoteOptions & { function?: string }): Promise<string> {
  if (options.function) return options.function;
  return requireOutput(await readStackOutputs(options, '--function NAME'), functionOutputKey(source), '--function NAME');
}

/** The failed-invocations queue. */
export async function resolveQueueUrl(options: RemoteOptions & { queue?: string }): Promise<string> {
  if (options.queue) return options.queue;
  return requireOutput(await readStackOutputs(options, '--queue URL'), OUTPUT.failedInvocationsQueueUrl, '--queue URL');
}

/** The stack's two dead-letter queues, by the name `--queue` takes. */
export const DEAD_LETTER_QUEUES = {
  failed: { output: OUTPUT.failedInvocationsQueueUrl, label: 'failed invocations' },
  undelivered: { output: OUTPUT.undeliveredTicksQueueUrl, label: 'undelivered schedule ticks' },
} as const;

/** A queue to redrive. */
export interface DeadLetterQueue {
  readonly label: string;
  readonly url: string;
}

/**
 * The queues `--queue` names: `failed`, `undelivered`, a queue URL, or (absent) both of the stack's.
 * @throws InputError for any other value (checked before the outputs file is read).
 */
export async function resolveQueues(options: RemoteOptions & { queue?: string }): Promise<DeadLetterQueue[]> {
  const { queue } = options;
  if (queue !== undefined && /^https?:\/\//.test(queue)) return [{ label: 'queue', url: queue }];
  if (queue !== undefined && !(queue in DEAD_LETTER_QUEUES)) {
    throw new InputError(`--queue must be failed, undelivered or a queue URL (https://…), got "${queue}"`);
  }
  const names = queue === undefined ? (['failed', 'undelivered'] as const) : [queue as keyof typeof DEAD_LETTER_QUEUES];
  const outputs = await readStackOutputs(options, '--queue URL');
  return names.map((name) => ({ label: DEAD_LETTER_QUEUES[name].label, url: requireOutput(outputs, DEAD_LETTER_QUEUES[name].output, '--queue URL') }));
}

/** The Athena workgroup and Glue database. */
export async function resolveAthena(options: RemoteOptions & { workgroup?: string; database?: string }): Promise<{ workGroup: string; database: string }> {
  if (options.workgroup && options.database) return { workGroup: options.workgroup, database: options.database };
  const outputs = await readStackOutputs(options, '--workgroup NAME --database NAME');
  return {
    workGroup: options.workgroup ?? requireOutput(outputs, OUTPUT.workGroup, '--workgroup NAME'),
    database: options.database ?? requireOutput(outputs, OUTPUT.database, '--database NAME'),
  };
}

/** The lake bucket. */
export async function resolveBucket(options: RemoteOptions & { bucket?: string }): Promise<string> {
  if (options.bucket) return options.bucket;
  return requireOutput(await readStackOutputs(options, '--bucket NAME'), OUTPUT.bucket, '--bucket NAME');
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isOutputs(value: unknown): value is StackOutputs {
  return isObject(value) && Object.values(value).every((output) => typeof output === 'string');
}
