/**
 * The CDK app. Minimal until the infrastructure issue lands: it validates every source with the
 * same loader as `apilake validate`, so a bad file already fails `cdk synth`.
 */

import { App, Stack } from 'aws-cdk-lib';
import { loadSources } from '../functions/config/loadSources.js';

const app = new App();
const sources = await loadSources(app.node.tryGetContext('sources') ?? 'sources');
const stack = new Stack(app, 'Apilake', { description: `apilake: ${sources.map((s) => s.definition.name).join(', ')}` });
app.synth();
