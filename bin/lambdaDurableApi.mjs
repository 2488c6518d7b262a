/**
 * What the function bundle takes for `@aws-sdk/client-lambda` (infra/constructs/SourceIngestion.ts
 * aliases the package to this file): only the client and the durable-execution commands the
 * function sends. The durable execution SDK loads the package with `import('@aws-sdk/client-lambda')`,
 * a namespace import esbuild cannot tree-shake, so the whole client (every Lambda command, 121 KB
 * minified) went into the bundle and took it past its 1 MB budget (docs/performance.md, T6).
 *
 * The paths are relative on purpose: esbuild's alias also rewrites `@aws-sdk/client-lambda/…`
 * subpaths, which would point back here. test/unit/lambdaDurableApi.test.ts checks that every
 * command the durable SDK and the function name is exported here, so a new one cannot go missing
 * unnoticed.
 */

export { LambdaClient } from '../node_modules/@aws-sdk/client-lambda/dist-es/LambdaClient.js';
export { CheckpointDurableExecutionCommand } from '../node_modules/@aws-sdk/client-lambda/dist-es/commands/CheckpointDurableExecutionCommand.js';
export { GetDurableExecutionStateCommand } from '../node_modules/@aws-sdk/client-lambda/dist-es/commands/GetDurableExecutionStateCommand.js';
export { GetDurableExecutionCommand } from '../node_modules/@aws-sdk/client-lambda/dist-es/commands/GetDurableExecutionCommand.js';
