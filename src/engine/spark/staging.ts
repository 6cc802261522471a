/**
 * Staging with Spark: the executors write a relation as zstd Parquet files — into the table's own store when they
 * reach it themselves (an S3 lake, through s3a), else into the scratch area they share with this process — and
 * medallion describes each file for the Delta log from its footer. medallion, not Spark, then commits them: one
 * commit protocol whatever the engine.
 */
import type { StagedFile } from '../../table/delta-table.js';
import { deltaSchema, type EngineColumn, type StagedTable, type StageOptions } from '../engine.js';
import type { SparkConnectClient } from './connect-client.js';
import { footerStats, type LocalQuery } from './footer-stats.js';
import type { StagingPlace } from './staging-places.js';

const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

export async function stageWithSpark(
  client: SparkConnectClient,
  place: StagingPlace,
  relation: string,
  columns: readonly EngineColumn[],
  partitionBy: readonly string[],
  localQuery: LocalQuery,
  stageOptions: StageOptions = {},
): Promise<StagedTable> {
  const unwritable = columns.find((column) => column.type === null);
  if (unwritable) {
    throw new Error(
      `column ${unwritable.name} has Spark type ${unwritable.engineType}, which a Delta table cannot hold`,
    );
  }
  const schema = deltaSchema(columns.map((column) => ({ name: column.name, type: column.type ?? 'string' })));
  try {
    await client.writeFiles(`SELECT * FROM ${relation}`, {
      format: 'parquet',
      path: place.uri,
      partitionBy,
      // A directory of data files only: no _SUCCESS marker.
      options: {
        compression: 'zstd',
        'mapreduce.fileoutputcommitter.marksuccessfuljobs': 'false',
        ...(stageOptions.maxRowsPerFile !== undefined && {
          maxRecordsPerFile: String(stageOptions.maxRowsPerFile),
        }),
      },
    });
    const written = await place.written();
    const stats = await place.readFooters(written, async (paths) => {
      const byPath = await footerStats(localQuery, paths, schema);
      return paths.map((footer) => byPath.get(footer));
    });
    const files: StagedFile[] = [];
    const empty: string[] = [];
    let rows = 0;
    for (const [index, file] of written.entries()) {
      const fileStats = stats[index];
      const numRecords = fileStats?.numRecords ?? 0;
      rows += numRecords;
      // Spark writes an empty file for an empty result: the table needs no file for it.
      if (!fileStats || numRecords === 0) {
        empty.push(file.relativePath);
        continue;
      }
      files.push(
        place.staged(file, {
          partitionValues: partitionValuesOf(file.relativePath, partitionBy),
          stats: fileStats,
        }),
      );
    }
    await place.remove(empty);
    return { schema, files, rows, ...(place.target && { target: place.target }) };
  } catch (error) {
    await place.remove().catch(() => undefined);
    throw error;
  }
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
