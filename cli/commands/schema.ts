/** `apilake schema suggest`: a `columns:` block for a stream, inferred from its committed records. */

import {
  ApilakeError,
  findSource,
  formatColumnsYaml,
  FsLakeStorage,
  hasTextRecords,
  InputError,
  parseJson,
  recordSampleSql,
  recordTypeSql,
  selectStreams,
  snapshotStream,
  suggestColumns,
} from '../../functions/index.js';
import { literalGlob } from '../query/LocalLake.js';
import { checkLakeFolder } from '../lakeFolder.js';

/** Flags of `apilake schema suggest`. */
export interface SchemaSuggestOptions {
  readonly stream?: string;
  readonly lake: string;
  readonly sources: string;
}

export async function schemaSuggestCommand(sourceName: string, options: SchemaSuggestOptions): Promise<void> {
  const { definition: source, file } = await findSource(options.sources, sourceName);
  await checkLakeFolder(options.lake);
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const storage = new FsLakeStorage(options.lake);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    for (const stream of selectStreams(source, options.stream)) {
      const snapshot = await snapshotStream(storage, source.name, stream.name);
      const files = snapshot.committed.flatMap((w) => w.manifest.parts.map((p) => literalGlob(storage.uri(p.key))));
      if (files.length === 0)
        throw new InputError(`stream ${source.name}.${stream.name} has no committed window in ${storage.location}: land some first (apilake run ${source.name} --stream ${stream.name})`);
      // DuckDB infers the record type over every committed record; samples check what it cannot tell (ISO dates in strings).
      const type = (await connection.runAndReadAll(recordTypeSql(files))).getRowObjectsJson().find((row) => row.column_name === 'data')?.column_type;
      if (typeof type !== 'string') throw new ApilakeError(`DuckDB did not describe the records of ${source.name}.${stream.name}: no type for column data`);
      // The sample query casts each record to VARCHAR: a row is its JSON text, or NULL.
      const samples = (await connection.runAndReadAll(recordSampleSql(files))).getRowsJson().flatMap(([text]) => (typeof text === 'string' ? [parseJson(text).value] : []));
      const suggestion = suggestColumns(type, samples, { textRecords: hasTextRecords(stream) });
      console.log(`# ${file}, streams[${source.streams.indexOf(stream)}] (${stream.name}): from ${files.length} committed parts; paste under the stream and edit`);
      process.stdout.write(formatColumnsYaml(suggestion));
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
