/**
 * The CDK app: every file in `sources/` (and nothing else) becomes an ingestion; an invalid one
 * fails synth with the same message as `apilake validate`, and an empty folder fails synth too,
 * so a deploy never creates a stack that ingests nothing or ingests the examples.
 * Context: `stage` (default dev), `alarmEmail`, `projectionStartDate`,
 * `infrequentAccessAfterDays`, `bytesScannedCutoffGiB`, `sources` (folder, default `sources`).
 */

import { App, Size, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, loadSources } from '../functions/index.js';
import { ApilakeStack } from './stacks/ApilakeStack.js';
import { STAGE_NAME } from './outputs.js';

const app = new App();
/** A context value as text (`-c key=value` gives text; cdk.json may hold a number or a boolean). */
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`context ${key} must be a text, a number or a boolean, got ${JSON.stringify(value)}`);
};
const stage = context('stage') ?? 'dev';
if (!STAGE_NAME.test(stage)) throw new Error(`context stage "${stage}" must match ${STAGE_NAME.source.slice(1, -1)}`);

const folder = context('sources') ?? 'sources';
let sources;
try {
  sources = await loadSources(folder);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
if (sources.length === 0) {
  process.stderr.write(
    `no source definitions (*.yaml) in ${folder}/: nothing to deploy.\n` +
      `  Add one per API you want landed (see ${folder}/README.md), e.g. \`cp examples/github_issues.yaml ${folder}/\`,\n` +
      `  or synthesize another folder with \`npx cdk synth -c sources=DIR\`.\n`,
  );
  process.exit(1);
}

new ApilakeStack(app, `apilake-${stage}`, {
  stage,
  sources: sources.map((s) => s.definition),
  alarmEmail: context('alarmEmail'),
  projectionStartDate: context('projectionStartDate'),
  infrequentAccessAfterDays: context('infrequentAccessAfterDays') ? Number(context('infrequentAccessAfterDays')) : undefined,
  bytesScannedCutoffPerQuery: context('bytesScannedCutoffGiB') ? Size.gibibytes(Number(context('bytesScannedCutoffGiB'))) : undefined,
  description: `apilake (${stage}): ${sources.map((s) => s.definition.name).join(', ')}`,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
