/**
 * How two table specs of one stream differ, in words: what a reader reports when the source
 * definition and the spec the lake committed disagree. Columns are matched by name (tables read
 * Parquet columns by name, so their order does not matter); comments are not compared.
 */

import { formatColumnType } from '../config/columnType.js';
import type { TableSpec } from './tableSpec.js';

/**
 * Every difference between `committed` (the lake's) and `declared` (the source definition's),
 * one phrase each; empty when they describe the same table.
 * @example diffTableSpecs(lake, yaml) // ['column amount: decimal(10,2) in the lake, string in the definition', 'column region only in the definition']
 */
export function diffTableSpecs(committed: TableSpec, declared: TableSpec): string[] {
  const differences: string[] = [];
  const declaredByName = new Map(declared.columns.map((c) => [c.name, c]));
  const committedNames = new Set(committed.columns.map((c) => c.name));
  for (const lake of committed.columns) {
    const yaml = declaredByName.get(lake.name);
    if (!yaml) {
      differences.push(`column ${lake.name} only in the lake`);
      continue;
    }
    const lakeType = formatColumnType(lake.type);
    const yamlType = formatColumnType(yaml.type);
    if (lakeType !== yamlType) differences.push(`column ${lake.name}: ${lakeType} in the lake, ${yamlType} in the definition`);
    if (lake.path !== yaml.path) differences.push(`column ${lake.name}: path ${lake.path} in the lake, ${yaml.path} in the definition`);
  }
  for (const yaml of declared.columns) if (!committedNames.has(yaml.name)) differences.push(`column ${yaml.name} only in the definition`);
  const key = (spec: TableSpec) => (spec.primaryKey.length === 0 ? 'none' : `[${spec.primaryKey.join(', ')}]`);
  if (key(committed) !== key(declared)) differences.push(`primary key ${key(committed)} in the lake, ${key(declared)} in the definition`);
  if (committed.cursorField !== declared.cursorField) differences.push(`cursor field ${committed.cursorField ?? 'none'} in the lake, ${declared.cursorField ?? 'none'} in the definition`);
  return differences;
}
