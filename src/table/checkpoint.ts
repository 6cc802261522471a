import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { DeltaAction } from './delta-protocol.js';

/**
 * Delta checkpoints: every CHECKPOINT_INTERVAL commits, the table's whole state (protocol, metadata, transaction
 * ids, live files) is written once as `_delta_log/<version>.checkpoint.parquet`, so that a reader replays the
 * checkpoint and the commits after it rather than every commit since the table began. The Parquet layout is the
 * one the Delta protocol gives (one struct column per action type, one action per row), read and written by a
 * small DuckDB of its own.
 */
export const CHECKPOINT_INTERVAL = 10;

export function checkpointFileName(version: number): string {
  return `${String(version).padStart(20, '0')}.checkpoint.parquet`;
}

export function parseCheckpointVersion(fileName: string): number | undefined {
  const match = /^(\d{20})\.checkpoint\.parquet$/.exec(fileName);
  return match ? Number(match[1]) : undefined;
}

const MAP = 'MAP(VARCHAR, VARCHAR)';
const COLUMNS: Record<string, string> = {
  txn: 'STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)',
  add: `STRUCT(path VARCHAR, partitionValues ${MAP}, size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, stats VARCHAR)`,
  remove: `STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, partitionValues ${MAP}, size BIGINT)`,
  metaData: `STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options ${MAP}), schemaString VARCHAR, partitionColumns VARCHAR[], configuration ${MAP}, createdTime BIGINT)`,
  protocol: 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER)',
};

let connection: Promise<DuckDBConnection> | undefined;

function duckdb(): Promise<DuckDBConnection> {
  connection ??= DuckDBInstance.create(':memory:', { threads: '1' }).then((instance) => instance.connect());
  return connection;
}

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Writes the actions as a checkpoint Parquet file at `target` (a local path). */
export async function writeCheckpointFile(actions: readonly DeltaAction[], target: string): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-checkpoint-'));
  try {
    const ndjson = path.join(dir, `${randomUUID()}.json`);
    await writeFile(ndjson, actions.map((action) => JSON.stringify(action)).join('\n') + '\n');
    const columns = Object.entries(COLUMNS)
      .map(([name, type]) => `${quote(name)}: ${quote(type)}`)
      .join(', ');
    const select = Object.keys(COLUMNS)
      .map((name) => `"${name}"`)
      .join(', ');
    await (
      await duckdb()
    ).run(
      `COPY (SELECT ${select} FROM read_json(${quote(ndjson)}, format = 'newline_delimited', columns = {${columns}}))
       TO ${quote(target)} (FORMAT parquet)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The actions of a checkpoint Parquet file (a local path). */
export async function readCheckpointFile(file: string): Promise<DeltaAction[]> {
  const select = Object.keys(COLUMNS)
    .map((name) => `to_json("${name}")::VARCHAR AS "${name}"`)
    .join(', ');
  const reader = await (await duckdb()).runAndReadAll(`SELECT ${select} FROM read_parquet(${quote(file)})`);
  const actions: DeltaAction[] = [];
  for (const row of reader.getRowObjectsJson()) {
    for (const [name, value] of Object.entries(row)) {
      if (typeof value === 'string') actions.push({ [name]: withoutNulls(JSON.parse(value)) } as DeltaAction);
    }
  }
  return actions;
}

/** Struct fields the writer left empty come back as nulls: drop them, as the JSON commits never hold them. */
function withoutNulls(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== null));
}
