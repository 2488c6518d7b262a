/**
 * The `apilake` command. Each action imports its module lazily (the build turns each into its
 * own chunk), so `apilake --help` loads neither DuckDB, the AWS SDK nor the engine.
 *
 * @example
 * ```sh
 * apilake validate
 * apilake run github_events --from 2024-01-01 --to 2024-01-02
 * apilake query "select count(*) from github_events_events"
 * ```
 */

import { Command, CommanderError, Option } from 'commander';
import type { BackfillOptions } from './commands/backfill.js';
import type { DemoOptions } from './commands/demo.js';
import type { GcOptions } from './commands/gc.js';
import type { QueryOptions } from './commands/query.js';
import type { RedriveOptions } from './commands/redrive.js';
import type { RunOptions } from './commands/run.js';
import type { SchemaSuggestOptions } from './commands/schema.js';
import type { StatusOptions } from './commands/status.js';
import { EXIT } from './exitCodes.js';
import { DEFAULT_LAKE_DIR, DEFAULT_SOURCES_DIR } from './pathFlags.js';
import type { RecordOptions } from './commands/record.js';
import type { TestOptions } from './commands/test.js';

// A reader that stops reading (`apilake backfill … | head`) closes standard output: the command
// goes on, for a landing is its work and the lines only report it, and nothing more is written
// there. A terminal that closed is such a reader (its writes fail with EIO), and after its SIGHUP
// the clean stop must run to its end and exit 129 (interrupt.ts). Any other failure of standard
// output (a full disk behind `> file`) ends the command, said on standard error, as a refused
// `--out` path does: windows in flight stay invisible until a later run lands them, as after a kill.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE' || (error.code === 'EIO' && process.stdout.isTTY)) return;
  process.stderr.write(`apilake: cannot write to standard output: ${error.message}\n`);
  process.exit(EXIT.badInput);
});
// Standard error is where a failure would be said: one it cannot take (a full disk behind
// `2> file`, a terminal gone) has nowhere to be said, and the command goes on to the end its exit
// code reports; a Ctrl-C's clean stop, whose notes go there, still runs to its end.
process.stderr.on('error', () => undefined);

/** package.json's version, inlined by the build (bin/buildCli.mjs); read from the file when the sources run through tsx. */
declare const APILAKE_BUILD_VERSION: string | undefined;
const version = typeof APILAKE_BUILD_VERSION === 'string' ? APILAKE_BUILD_VERSION : (await import('./packageRoot.js')).packageVersion();

// Commander hands each action its arguments and options untyped: the types below are what the
// arguments and options declared just above each action produce (kebab-case flags in camelCase).
const program = new Command('apilake')
  .description('Land HTTP APIs as exactly-once windows in a data lake, locally or on AWS.')
  .version(version, '-V, --version', 'print the apilake version')
  .showHelpAfterError()
  // Usage errors throw instead of exiting with commander's code 1, so they exit 2 like every
  // other invalid input; set before the commands are added, which inherit it.
  .exitOverride()
  .configureHelp({ sortSubcommands: false });

const sourcesOption = () => new Option('--sources <dir>', 'folder of source YAML files').default(DEFAULT_SOURCES_DIR);
const lakeOption = () => new Option('--lake <dir>', 'local lake folder').default(DEFAULT_LAKE_DIR);
const outputsOption = () => new Option('--outputs <file>', 'stack outputs written by `cdk deploy --outputs-file`').default('cdk-outputs.json');

program
  .command('validate')
  .description('check every source definition and report all problems at once')
  .addOption(sourcesOption())
  .action(async (options: { sources: string }) => (await import('./commands/validate.js')).validateCommand(options));

program
  .command('run')
  .description('extract a source into the lake: the latest complete window, or every window in --from/--to')
  .argument('<source>', 'source name')
  .option('--stream <name>', 'only this stream')
  .option('--from <iso>', 'start of the range (ISO 8601, UTC unless an offset is given)')
  .option('--to <iso>', 'end of the range, exclusive (default: now, complete windows only)')
  .addOption(lakeOption())
  .option('--bucket <name>', 'land into this S3 bucket instead of the local lake (AWS_ENDPOINT_URL_S3 and credentials from the environment)')
  .option('--force', 're-run windows that are already committed', false)
  .addOption(sourcesOption())
  .action(async (source: string, options: RunOptions) => (await import('./commands/run.js')).runCommand(source, options));

program
  .command('backfill')
  .description('replay every window of a range, resumable, locally or inside AWS (one Step Functions execution the laptop can leave)')
  .argument('[source]', 'source name (not with --status or --cancel)')
  .option('--from <iso>', 'start of the range (widened to the window containing it)')
  .option('--to <iso>', 'end of the range, exclusive (widened to the window containing it)')
  .option('--stream <name>', 'only this stream')
  .option('--concurrency <n>', "local backfill: windows in flight at once, sharing one rate limit (in AWS the source's rate_limit decides)", '1')
  .addOption(lakeOption())
  .option('--remote', 'start one backfill inside AWS over the windows not yet committed, print its id and return', false)
  .option('--follow', 'with --remote or --status: show the progress of the backfill in AWS until it ends', false)
  .option('--status <id>', 'show a backfill in AWS: its state and windows committed so far')
  .option('--cancel <id>', 'stop a backfill in AWS: no new window starts')
  .option('--force', 're-run windows that are already committed; with --curate-only: rebuild their tables too', false)
  .option('--curate-only', 'build the typed Parquet files of committed windows that have none from their raw parts, without calling the API', false)
  .option('--bucket <name>', 'with --curate-only: the lake in this S3 bucket; with --remote: the lake bucket (default: from the stack outputs)')
  .option('--state-machine <arn>', 'with --remote, --status or --cancel: the backfill state machine (default: from the stack outputs)')
  .addOption(outputsOption())
  .option('--stage <stage>', 'stack apilake-<stage> in the outputs file')
  .addOption(sourcesOption())
  .action(async (source: string | undefined, options: BackfillOptions) => (await import('./commands/backfill.js')).backfillCommand(source, options));

program
  .command('status')
  .description('committed windows, records and gaps per stream, from the manifests')
  .argument('<source>', 'source name')
  .option('--stream <name>', 'only this stream')
  .addOption(lakeOption())
  .option('--bucket <name>', 'read the lake in this S3 bucket instead of a local folder')
  .option('--remote', 'read the deployed lake bucket (from the stack outputs)', false)
  .option('--json', 'print JSON for machines', false)
  .addOption(outputsOption())
  .option('--stage <stage>', 'stack apilake-<stage> in the outputs file')
  .addOption(sourcesOption())
  .action(async (source: string, options: StatusOptions) => (await import('./commands/status.js')).statusCommand(source, options));

program
  .command('gc')
  .description('remove orphaned parts and unfinished writes of runs past the 12h horizon, and repair Athena symlink files')
  .argument('<source>', 'source name')
  .option('--stream <name>', 'only this stream')
  .addOption(lakeOption())
  .option('--bucket <name>', 'the lake in this S3 bucket instead of a local folder')
  .option('--remote', 'the deployed lake bucket (from the stack outputs)', false)
  .option('--dry-run', 'report what would be removed, remove nothing', false)
  .addOption(outputsOption())
  .option('--stage <stage>', 'stack apilake-<stage> in the outputs file')
  .addOption(sourcesOption())
  .action(async (source: string, options: GcOptions) => (await import('./commands/gc.js')).gcCommand(source, options));

const schema = program.command('schema').description('typed columns of a stream');
schema
  .command('suggest')
  .description('print a columns: block for a stream, inferred from its committed records (DuckDB type inference), to paste into its YAML')
  .argument('<source>', 'source name')
  .option('--stream <name>', 'only this stream')
  .addOption(lakeOption())
  .addOption(sourcesOption())
  .action(async (source: string, options: SchemaSuggestOptions) => (await import('./commands/schema.js')).schemaSuggestCommand(source, options));

program
  .command('query')
  .description('run SQL over the lake; each stream is a table <source>_<stream> (DuckDB locally, Athena with --remote)')
  .argument('<sql>', 'SQL to run')
  .addOption(lakeOption())
  .addOption(new Option('--format <format>', 'output format (parquet needs --out)').choices(['table', 'json', 'csv', 'parquet']).default('table'))
  .option('--out <file>', 'write the result to this file instead of printing it (with --format parquet|csv|json); never inside the lake folder, and whole or not at all')
  .option('--force', 'with --out: replace the file if it exists', false)
  .option('--no-formula-escape', "CSV: write cells that begin with = + - @ tab or CR as they are, instead of prefixing them with ' so a spreadsheet shows them as text")
  .addOption(sourcesOption())
  .option('--remote', 'run on Athena in the stack workgroup', false)
  .option('--workgroup <name>', 'Athena workgroup (default: from the stack outputs)')
  .option('--database <name>', 'Glue database (default: from the stack outputs)')
  .addOption(outputsOption())
  .option('--stage <stage>', 'stack apilake-<stage> in the outputs file')
  .action(async (sql: string, options: QueryOptions) => (await import('./commands/query.js')).queryCommand(sql, options));

program
  .command('redrive')
  .description('re-run what the dead-letter queues hold (failed invocations, undelivered schedule ticks); delete each message only when its re-run succeeds')
  .option('--max <n>', 'messages to handle at most, over all queues', '10')
  .option('--dry-run', 'list the messages and why each failed, without re-invoking or deleting (they stay visible)', false)
  .option('--queue <which>', 'failed | undelivered | a queue URL (default: both queues of the stack, in turn)')
  .addOption(outputsOption())
  .option('--stage <stage>', 'stack apilake-<stage> in the outputs file')
  .action(async (options: RedriveOptions) => (await import('./commands/redrive.js')).redriveCommand(options));

program
  .command('record')
  .description('record a cassette per window against the live API (requests and responses, every secret masked), to replay offline with `apilake test`')
  .argument('<source>', 'source name')
  .requiredOption('--from <iso>', 'start of the range (widened to the window containing it)')
  .requiredOption('--to <iso>', 'end of the range, exclusive')
  .option('--stream <name>', 'only this stream')
  .addOption(sourcesOption())
  .option('--cassettes <dir>', 'cassette folder (default: <sources>/cassettes)')
  .option('--base-url <url>', "record from this server (a staging API, a local simulation) instead of the source's base_url; the cassettes still name base_url")
  .option(
    '--origin <origin=url>',
    'record from url what an origin of redirects.allowed_origins serves (a file store a job links to); the cassettes still name the origin; repeatable',
    (value: string, previous: string[] = []) => [...previous, value],
  )
  .option('--token-url <url>', "ask this token endpoint (a staging or simulated identity server) instead of the source's auth.token_url; the cassettes still name token_url")
  .action(async (source: string, options: RecordOptions) => (await import('./commands/record.js')).recordCommand(source, options));

program
  .command('test')
  .description("replay a source's cassettes offline (no network, no secrets) and compare records, pages and type errors with what each pins; --live reports drift of the live API")
  .argument('<source>', 'source name')
  .option('--stream <name>', 'only this stream')
  .addOption(sourcesOption())
  .option('--cassettes <dir>', 'cassette folder (default: <sources>/cassettes)')
  .option('--junit <file>', 'also write a JUnit XML report')
  .option('--live', 'record one recent window per stream against the live API and report what changed against the cassettes (exit 1 when the typed table would change)', false)
  .option('--base-url <url>', 'with --live: record from this server instead of base_url')
  .option('--token-url <url>', "with --live: ask this token endpoint instead of the source's auth.token_url")
  .option('--origin <origin=url>', 'with --live: fetch from url what an origin of redirects.allowed_origins serves; repeatable', (value: string, previous: string[] = []) => [...previous, value])
  .option('--scratch <dir>', 'with --live: where the live recordings go (default: a new temporary folder)')
  .action(async (source: string, options: TestOptions) => (await import('./commands/test.js')).testCommand(source, options));

program
  .command('demo')
  .description('start a local demo API, ingest a day of it into the lake, then query it (offline)')
  .addOption(lakeOption())
  .option('--sources <dir>', "folder holding demo_shop.yaml (default: apilake's examples/ folder)")
  .option('--serve', 'only start the demo API and keep it running, to try `apilake run demo_shop` by hand', false)
  .option('--port <port>', 'port of the demo API (default: any free port; 8787 with --serve)')
  .action(async (options: DemoOptions) => (await import('./commands/demo.js')).demoCommand(options));

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // Commander has printed the message (and the help) already; --help and --version end with 0.
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.badInput);
  }
  // Loaded only on failure, so a successful start never pays for the error explanations.
  void import('./reportError.js').then(({ reportAndExit }) => reportAndExit(error));
});
