/** A table's version written as one CSV or Parquet file by DuckDB, in the reader's scratch directory, to be sent. */
import { rm, stat } from 'node:fs/promises';
import { sqlString } from '../engine/dialects/duckdb.js';
import type { LakeReader } from './lake-reader.js';
import { register } from './table-rows.js';
import { openTable, requireSnapshot, type LakeContext, type TableRef, type VersionChoice } from './tables.js';

export const EXPORT_FORMATS = ['csv', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportedVersion {
  /** The file, in the reader's scratch directory: `remove` it once sent. */
  path: string;
  /** What to call it: `gold.top_100_companies.v3.csv`. */
  fileName: string;
  contentType: string;
  bytes: number;
  remove(): Promise<void>;
}

const COPY_OPTIONS: Record<ExportFormat, { options: string; contentType: string }> = {
  csv: { options: 'FORMAT csv, HEADER true', contentType: 'text/csv; charset=utf-8' },
  parquet: { options: 'FORMAT parquet, COMPRESSION zstd', contentType: 'application/vnd.apache.parquet' },
};

/** A version (default the latest; or as of a time) written as one CSV or Parquet file, to be sent and then removed. */
export async function exportVersion(
  ctx: LakeContext,
  reader: LakeReader,
  ref: TableRef,
  options: VersionChoice & { format: ExportFormat },
): Promise<ExportedVersion> {
  const { table } = await openTable(ctx, reader, ref);
  const snapshot = await requireSnapshot(table, ref, options);
  const copy = COPY_OPTIONS[options.format];
  const file = await reader.scratchFile(`.${options.format}`);
  const remove = () => rm(file, { force: true });
  try {
    await reader.session(async (session) => {
      await register(session, 'version', table, snapshot);
      await session.run(`COPY (SELECT * FROM "version") TO ${sqlString(file)} (${copy.options})`);
    });
    return {
      path: file,
      fileName: `${ref.layer}.${ref.table}.v${snapshot.version}.${options.format}`,
      contentType: copy.contentType,
      bytes: (await stat(file)).size,
      remove,
    };
  } catch (error) {
    await remove();
    throw error;
  }
}
