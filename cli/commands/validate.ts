import { formatDuration, loadSources, streamWindowMs } from '../../functions/index.js';

/** `apilake validate`: loads every source; the loader throws one ConfigError listing all problems. */
export async function validateCommand(options: { sources: string }): Promise<void> {
  const sources = await loadSources(options.sources);
  if (sources.length === 0) {
    console.log(
      `no source files (*.yaml) in ${options.sources}: copy one from examples/ or start from the template in sources/README.md (\`apilake validate --sources examples\` checks the examples)`,
    );
    return;
  }
  for (const { file, definition } of sources) {
    const streams = definition.streams.map((s) => `${s.name} (${s.pagination.type}, ${s.land ? formatDuration(streamWindowMs(definition, s)) : 'parent only'})`).join(', ');
    console.log(`✓ ${file}: ${definition.name} · ${definition.schedule} · auth ${definition.auth.type} · ${streams}`);
  }
  console.log(`${sources.length} source${sources.length === 1 ? '' : 's'} valid`);
}
