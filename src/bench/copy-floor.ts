/**
 * The copy floor: DuckDB alone reading each source file and writing its records as one zstd Parquet file — no
 * checks, no lineage, no landing copy, no Delta log: the irreducible work of keeping a bronze layer, which each
 * bronze task is measured against (copy-floor-bench.ts).
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { PipelineDefinition, SourceDefinition } from '../core/pipeline.js';
import { sqlString } from '../engine/dialects/duckdb.js';
import { csvSelect, floorDatabase, jsonDocumentRecords, sourceFile } from './raw-duckdb-floor.js';

export interface CopyFloorStep {
  /** The bronze table the source feeds. */
  bronzeTable: string;
  file: string;
  bytes: number;
  rows: number;
  durationMs: number;
}

export interface CopyFloorOptions {
  pipeline: PipelineDefinition;
  sourceDir: string;
  outDir: string;
  /** Where DuckDB spills. */
  scratchDir: string;
  memoryLimit: string;
}

/** One COPY per source, one after the other, on one DuckDB database with the pipeline's memory limit. */
export async function runCopyFloor(options: CopyFloorOptions): Promise<CopyFloorStep[]> {
  await mkdir(options.outDir, { recursive: true });
  const { instance, connection } = await floorDatabase(options);
  try {
    const steps: CopyFloorStep[] = [];
    for (const source of options.pipeline.sources) {
      const file = await sourceFile(options.sourceDir, source);
      const target = path.join(options.outDir, `${source.bronzeTable}.zstd.parquet`);
      const started = performance.now();
      const reader = await connection.runAndReadAll(
        `COPY (${await recordsSql(source, file)}) TO ${sqlString(target)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      const durationMs = Math.round(performance.now() - started);
      steps.push({
        bronzeTable: source.bronzeTable,
        file: path.basename(file),
        bytes: (await stat(file)).size,
        rows: Number(reader.getRows()[0]?.[0] ?? 0),
        durationMs,
      });
    }
    return steps;
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(options.scratchDir, { recursive: true, force: true });
  }
}

/**
 * The file's records as DuckDB reads them by itself: a CSV with every column as text (malformed rows skipped);
 * a JSON document read whole, its records in the bronze table's declared fields.
 */
async function recordsSql(source: SourceDefinition, file: string): Promise<string> {
  const { format } = source;
  if (format.type === 'csv') return csvSelect(format, file);
  const shape = sqlString(JSON.stringify(format.fields));
  return `SELECT unnest(json_transform(r, ${shape})) FROM ${await jsonDocumentRecords(format, file)}`;
}
