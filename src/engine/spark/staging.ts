/**
 * Staging with Spark: the executors write a relation as zstd Parquet files into the scratch area (which they
 * share with this process), and medallion describes each file for the Delta log from its footer. medallion, not
 * Spark, then commits them: one commit protocol whatever the engine.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StagedFile } from '../../table/delta-table.js';
import { deltaSchema, type EngineColumn, type StagedTable } from '../engine.js';
import type { SparkConnectClient } from './connect-client.js';
import { footerStats, type LocalQuery } from './footer-stats.js';

const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

export async function stageWithSpark(
  client: SparkConnectClient,
  scratchDir: string,
  relation: string,
  columns: readonly EngineColumn[],
  partitionBy: readonly string[],
  localQuery: LocalQuery,
): Promise<StagedTable> {
  const unwritable = columns.find((column) => column.type === null);
  if (unwritable) {
    throw new Error(
      `column ${unwritable.name} has Spark type ${unwritable.engineType}, which a Delta table cannot hold`,
    );
  }
  const schema = deltaSchema(columns.map((column) => ({ name: column.name, type: column.type ?? 'string' })));
  const dir = path.join(scratchDir, 'stage', `${Date.now()}-${randomUUID().slice(0, 8)}`);
  await mkdir(path.dirname(dir), { recursive: true });
  await client.writeFiles(`SELECT * FROM ${relation}`, {
    format: 'parquet',
    path: pathToFileURL(dir).href,
    partitionBy,
    options: { compression: 'zstd' },
  });
  const written = await parquetFilesUnder(dir);
  const stats = await footerStats(localQuery, written, schema);
  const files: StagedFile[] = [];
  let rows = 0;
  for (const file of written) {
    const fileStats = stats.get(file);
    const numRecords = fileStats?.numRecords ?? 0;
    rows += numRecords;
    // Spark writes an empty file for an empty result: the table needs no file for it.
    if (!fileStats || numRecords === 0) continue;
    const relative = path.relative(dir, file).split(path.sep).join('/');
    files.push({
      localPath: file,
      relativePath: relative,
      partitionValues: partitionValuesOf(relative, partitionBy),
      stats: fileStats,
      size: (await stat(file)).size,
    });
  }
  return { schema, files, rows };
}

async function parquetFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.parquet'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/** `a=1/b=x%2Fy/part-….parquet` → { a: '1', b: 'x/y' } (Spark escapes values as Hive does). */
function partitionValuesOf(relative: string, partitionBy: readonly string[]): Record<string, string | null> {
  const segments = new Map(
    relative
      .split('/')
      .slice(0, -1)
      .map((segment) => {
        const at = segment.indexOf('=');
        return [decodeURIComponent(segment.slice(0, at)), decodeURIComponent(segment.slice(at + 1))] as const;
      }),
  );
  return Object.fromEntries(
    partitionBy.map((column) => {
      const value = segments.get(column);
      return [column, value === undefined || value === HIVE_NULL ? null : value];
    }),
  );
}
