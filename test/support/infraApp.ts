import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseSource } from '../../functions/config/loadSources.js';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { ApilakeStack, type ApilakeStackProps } from '../../infra/stacks/ApilakeStack.js';

/** Two sources shaped like real ones: api_key + cursor with two streams, and a cron source with OAuth2. */
export const INFRA_SOURCES: SourceDefinition[] = [
  parseSource(
    JSON.stringify({
      name: 'shop',
      schedule: 'rate(1 hour)',
      base_url: 'https://api.shop.test',
      auth: { type: 'api_key', secret: 'apilake/shop', in: 'header', name: 'X-API-Key' },
      lambda: { memory_mb: 1024, timeout_seconds: 600 },
      streams: [
        {
          name: 'orders',
          path: '/orders',
          records: 'data',
          pagination: { type: 'cursor', cursor: 'next', param: 'c' },
          primary_key: ['id'],
          columns: [
            { name: 'id', path: 'id', type: 'bigint' },
            { name: 'status', path: 'status', type: 'string' },
            { name: 'amount', path: 'amount', type: 'decimal(12,2)' },
            { name: 'updated_at', path: 'updated_at', type: 'timestamp' },
            { name: 'tags', path: 'tags[].name', type: 'array<string>' },
          ],
        },
        { name: 'customers', path: '/customers', records: 'data', window: '1d' },
      ],
    }),
    'shop.yaml',
  ),
  parseSource(
    JSON.stringify({
      name: 'crm',
      schedule: 'cron(15 2 * * ? *)',
      timezone: 'Europe/Paris',
      base_url: 'https://crm.test',
      auth: { type: 'oauth2_client_credentials', secret: 'apilake/crm', token_url: 'https://crm.test/token' },
      streams: [{ name: 'contacts', path: '/contacts', records: 'items', window: '1d' }],
    }),
    'crm.yaml',
  ),
];

/**
 * Builds the stack as the app does, cdk-nag included. Bundling is skipped unless asked for
 * (assertions read the template, not the bundle).
 */
export function buildStack(props: Partial<ApilakeStackProps> = {}, options: { bundle?: boolean; outdir?: string } = {}) {
  const app = new App({
    outdir: options.outdir,
    context: options.bundle ? { 'aws:cdk:enable-asset-metadata': true } : { 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new ApilakeStack(app, 'apilake-test', { stage: 'test', sources: INFRA_SOURCES, ...props });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
