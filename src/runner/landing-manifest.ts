import { sqlString } from '../engine/dialects/duckdb.js';
import type { RunContext } from './run-context.js';
import { writeTable } from './table-writer.js';

/**
 * The landing manifest records what happened to each source file, as events appended to a
 * Delta table: `landed` (bytes copied to landing), then `loaded` (rows in bronze) or `rejected`,
 * and `expired` once retention deleted the landed copy of a loaded file (the file stays known:
 * the same bytes are not ingested again). A file's state is its latest event; its identity is
 * (source, checksum).
 */
export type FileStatus = 'landed' | 'loaded' | 'rejected' | 'expired';

/** What reading and appending to the manifest needs of a run: its lake and DuckDB. */
export type ManifestAccess = Pick<RunContext, 'lake' | 'ingestEngine'>;

export interface ManifestEntry {
  source: string;
  fileName: string;
  sourceKey: string;
  landingKey: string;
  checksum: string;
  bytes: number;
  status: FileStatus;
  runId: string;
  /** ISO timestamp of the event. */
  at: string;
  records: number | null;
  error: string | null;
}

const COLUMNS: [keyof ManifestEntry, string, string][] = [
  ['source', 'source', 'VARCHAR'],
  ['fileName', 'file_name', 'VARCHAR'],
  ['sourceKey', 'source_key', 'VARCHAR'],
  ['landingKey', 'landing_key', 'VARCHAR'],
  ['checksum', 'sha256', 'VARCHAR'],
  ['bytes', 'bytes', 'BIGINT'],
  ['status', 'status', 'VARCHAR'],
  ['runId', 'run_id', 'VARCHAR'],
  ['at', 'event_at', 'TIMESTAMPTZ'],
  ['records', 'records', 'BIGINT'],
  ['error', 'error', 'VARCHAR'],
];

function literal(value: string | number | null, type: string): string {
  if (value === null) return `NULL::${type}`;
  return typeof value === 'number' ? `${value}::${type}` : `${sqlString(value)}::${type}`;
}

/** Every file's latest event. */
export async function currentFiles(context: ManifestAccess): Promise<ManifestEntry[]> {
  return (await readManifest(context)).files;
}

/** Every file's latest event, and the manifest's version they were read from (-1: no manifest yet). */
export async function readManifest(
  context: ManifestAccess,
): Promise<{ version: number; files: ManifestEntry[] }> {
  const table = context.lake.manifest();
  const snapshot = await table.snapshot();
  if (!snapshot) return { version: -1, files: [] };
  await context.ingestEngine.registerSnapshot('__manifest', snapshot, table.store, table.root);
  const rows = await context.ingestEngine.all(`
    SELECT ${COLUMNS.map(([, column, type]) => (type === 'TIMESTAMPTZ' ? `strftime(${column}, '%Y-%m-%dT%H:%M:%S.%gZ') AS ${column}` : column)).join(', ')}
    FROM __manifest
    QUALIFY row_number() OVER (PARTITION BY source, sha256 ORDER BY event_at DESC, status <> 'landed' DESC) = 1
    ORDER BY event_at, file_name`);
  const files = rows.map((row) => {
    const entry: Record<string, unknown> = {};
    for (const [field, column, type] of COLUMNS) {
      const value = row[column];
      entry[field] = type === 'BIGINT' && value !== null ? Number(value) : value;
    }
    return entry as unknown as ManifestEntry;
  });
  return { version: snapshot.version, files };
}

/**
 * Appends file events. With `readVersion`, the events were decided from that version of the manifest: the append
 * fails with a CommitConflictError when another run appended since (so that no file is recorded landed twice).
 */
export async function appendToManifest(
  context: ManifestAccess & Pick<RunContext, 'runId'>,
  entries: readonly ManifestEntry[],
  readVersion?: number,
): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map(
    (entry) => `(${COLUMNS.map(([field, , type]) => literal(entry[field], type)).join(', ')})`,
  );
  const relation = `(SELECT * FROM (VALUES ${rows.join(',\n')}) AS t(${COLUMNS.map(([, column]) => column).join(', ')}))`;
  await writeTable(context.ingestEngine, relation, context.lake.manifest(), {
    mode: 'append',
    runId: context.runId,
    task: 'manifest',
    ...(readVersion !== undefined && { readVersion, exclusive: true }),
  });
}
