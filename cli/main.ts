/**
 * The `apilake` command. Each action imports its module lazily, so `apilake --help` starts
 * without loading DuckDB or the engine.
 *
 * @example
 * ```sh
 * apilake validate
 * apilake run github_events --from 2024-01-01 --to 2024-01-02
 * apilake query "select count(*) from github_events_events"
 * ```
 */

import { Command, Option } from 'commander';
import { reportAndExit } from './reportError.js';

const program = new Command('apilake')
  .description('Land HTTP APIs as exactly-once windows in a data lake, locally or on AWS.')
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: false });

const sourcesOption = () => new Option('--sources <dir>', 'folder of source YAML files').default('./sources');
const lakeOption = () => new Option('--lake <dir>', 'local lake folder').default('./lake');

program
  .command('validate')
  .description('check every source definition and report all problems at once')
  .addOption(sourcesOption())
  .action(async (options) => (await import('./commands/validate.js')).validateCommand(options));

program
  .command('run')
  .description('extract a source into the lake: the latest complete window, or every window in --from/--to')
  .argument('<source>', 'source name')
  .option('--stream <name>', 'only this stream')
  .option('--from <iso>', 'start of the range (ISO 8601, UTC unless an offset is given)')
  .option('--to <iso>', 'end of the range, exclusive (default: now, complete windows only)')
  .addOption(lakeOption())
  .option('--force', 're-run windows that are already committed', false)
  .addOption(sourcesOption())
  .action(async (source, options) => (await import('./commands/run.js')).runCommand(source, options));

program
  .command('query')
  .description('run SQL with DuckDB over the local lake; each stream is a view <source>_<stream>')
  .argument('<sql>', 'SQL to run')
  .addOption(lakeOption())
  .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'))
  .action(async (sql, options) => (await import('./commands/query.js')).queryCommand(sql, options));

program
  .command('demo')
  .description('start a local demo API, ingest a day of it into the lake, then query it (offline)')
  .addOption(lakeOption())
  .addOption(sourcesOption())
  .option('--serve', 'only start the demo API and keep it running, to try `apilake run demo_shop` by hand', false)
  .option('--port <port>', 'port of the demo API (default: any free port; 8787 with --serve)')
  .action(async (options) => (await import('./commands/demo.js')).demoCommand(options));

program.parseAsync(process.argv).catch(reportAndExit);
