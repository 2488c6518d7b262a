import { defineConfig } from 'vitest/config';

/**
 * Test files named `*.node22.test.ts` need Node 22 (the durable execution SDK and its local runner
 * declare `engines: node >= 22`): `npm run vitest:node22` and `npm run test:node22` run them, an
 * older Node leaves them out by name (docs/development.md).
 */
const node22 = Number(process.versions.node.split('.')[0]) >= 22;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...(node22 ? [] : ['test/**/*.node22.test.ts'])],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    globalSetup: ['./test/support/tempRoot.ts'],
    reporters: ['default', './test/support/summaryReporter.ts'],
  },
});
