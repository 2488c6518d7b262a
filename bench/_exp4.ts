import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParquetFileWriter } from '../functions/tables/ParquetFileWriter.js';
