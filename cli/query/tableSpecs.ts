/** The typed tables the source definitions declare, for the local query views. */

import { ConfigError, landedStreams, loadSources, type TableSpec, tableSpec } from '../../functions/index.js';

/**
 * Table specs of every stream in `sourcesDir`. A query never fails because of the definitions:
 * a missing folder gives none (the lake's tables then have the envelope and `data` only), an
 * invalid one gives none and a warning.
 */
export async function loadTableSpecs(sourcesDir: string, warn: (text: string) => void): Promise<TableSpec[]> {
  try {
    return (await loadSources(sourcesDir)).flatMap(({ definition }) => landedStreams(definition).map((stream) => tableSpec(definition, stream)));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const missing = (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    if (!missing) warn(`the source definitions in ${sourcesDir} are invalid, so tables have no typed columns (apilake validate --sources ${sourcesDir} says why)`);
    return [];
  }
}
