import { describeError, SourceFileError } from '../core/errors.js';
import type { SourceDefinition } from '../core/pipeline.js';
import { duckdbSqlType, quoteIdent } from '../engine/dialects/duckdb.js';
import type { StagedTable } from '../engine/engine.js';
import type { TableSnapshot } from '../table/delta-table.js';
import { prepareFile, type PreparedFile } from './bronze-readers.js';
import { appendToManifest, currentFiles, type ManifestEntry } from './landing-manifest.js';
import type { RunContext } from './run-context.js';
import { writeTable } from './table-writer.js';

export interface BronzeReport {
  files: { fileName: string; records: number; quarantined: number }[];
  rowsIn: number;
  rowsOut: number;
  quarantined: number;
  version: number | null;
}

interface StagedFile {
  prepared: PreparedFile;
  stage: StagedTable;
  quarantined: number;
}

type Failure = { entry: ManifestEntry; error: unknown };

/** The prefix of the transaction id a bronze commit records per landed file it appends (then its checksum). */
export const LANDED_FILE_TXN = 'medallion-landing-';

/** Appends the records of newly landed files to the source's bronze table: all files or none. */
export async function loadBronze(
  context: RunContext,
  source: SourceDefinition,
  task: string,
): Promise<BronzeReport> {
  const pending = (await currentFiles(context)).filter(
    (entry) =>
      entry.source === source.name &&
      (entry.status === 'landed' || (context.retryRejected && entry.status === 'rejected')),
  );
  const report: BronzeReport = { files: [], rowsIn: 0, rowsOut: 0, quarantined: 0, version: null };
  if (pending.length === 0) return report;

  const table = context.lake.table({ layer: 'bronze', table: source.bronzeTable });
  const snapshot = await table.snapshot();
  const prepared: PreparedFile[] = [];
  const failures: Failure[] = [];
  try {
    for (const [index, entry] of pending.entries()) {
      context.progress({ type: 'task-progress', task, message: `checking ${entry.fileName}` });
      try {
        prepared.push(await prepareFile(context, source, entry, `__bronze_${source.bronzeTable}_${index}`));
      } catch (error) {
        failures.push({ entry, error });
      }
    }
    const staged = await stageFiles(context, task, snapshot, prepared, failures);
    if (failures.length > 0) await rejectAndThrow(context, failures);

    const committed = await table.commit({
      mode: 'append',
      schema: staged[0]?.stage.schema ?? { type: 'struct', fields: [] },
      partitionColumns: snapshot?.partitionColumns ?? [],
      files: staged.flatMap((file) => file.stage.files),
      readVersion: snapshot?.version ?? -1,
      // One transaction id per landed file: a retried load of the same file is not appended twice.
      txns: staged.map((file) => ({
        appId: `${LANDED_FILE_TXN}${file.prepared.entry.checksum}`,
        version: 0,
      })),
      info: { runId: context.runId, task },
    });
    await quarantineRejects(context, source, task, staged);
    const now = new Date().toISOString();
    await appendToManifest(
      context,
      staged.map((file) => ({
        ...file.prepared.entry,
        status: 'loaded',
        runId: context.runId,
        at: now,
        records: file.prepared.records,
      })),
    );
    for (const file of staged) {
      // An earlier try committed these rows (and died before recording it): this one appended nothing.
      if (committed.alreadyCommitted) continue;
      report.files.push({
        fileName: file.prepared.entry.fileName,
        records: file.prepared.records,
        quarantined: file.quarantined,
      });
      report.rowsIn += file.prepared.records;
      report.rowsOut += file.stage.rows;
      report.quarantined += file.quarantined;
    }
    report.version = committed.version;
    context.log(
      committed.alreadyCommitted
        ? `version ${committed.version} already holds these files' rows (an earlier try committed them)`
        : `appended ${report.rowsOut} row(s) as version ${committed.version} of bronze.${source.bronzeTable}`,
    );
    return report;
  } finally {
    await Promise.all(prepared.map((file) => file.cleanup()));
  }
}

/**
 * Writes each file's rows as Parquet, every file projected onto the same columns: the table's
 * existing ones in order (NULL where a file lacks one), then any new ones. Checks that every record
 * the file holds was either read or rejected.
 */
async function stageFiles(
  context: RunContext,
  task: string,
  snapshot: TableSnapshot | undefined,
  prepared: PreparedFile[],
  failures: Failure[],
): Promise<StagedFile[]> {
  const columns = await Promise.all(prepared.map((file) => context.ingestEngine.columns(file.view)));
  const target = new Map<string, string>(
    (snapshot?.schema.fields ?? []).map((field) => [field.name, duckdbSqlType(field.type)]),
  );
  for (const column of columns.flat())
    if (!target.has(column.name)) target.set(column.name, column.engineType);
  const staged: StagedFile[] = [];
  for (const [index, file] of prepared.entries()) {
    const present = new Set(columns[index]?.map((column) => column.name));
    const projection = [...target].map(([name, type]) =>
      present.has(name) ? quoteIdent(name) : `CAST(NULL AS ${type}) AS ${quoteIdent(name)}`,
    );
    context.progress({ type: 'task-progress', task, message: `loading ${file.entry.fileName}` });
    try {
      const stage = await context.ingestEngine.stage(
        `(SELECT ${projection.join(', ')} FROM ${file.view})`,
        [],
      );
      const quarantined = file.rejects
        ? Number(
            (
              await context.ingestEngine.one(
                `SELECT count(DISTINCT line)::BIGINT AS n FROM ${file.rejects.table}`,
              )
            ).n,
          )
        : 0;
      if (stage.rows + quarantined !== file.records) {
        throw new SourceFileError(
          `read ${stage.rows} rows and rejected ${quarantined}, but the file holds ${file.records} records`,
          {
            context: { file: file.entry.fileName },
            hint: 'the file may mix line endings or quoting styles; check it with a CSV linter',
          },
        );
      }
      staged.push({ prepared: file, stage, quarantined });
      context.log(
        `${file.entry.fileName}: ${file.records} record(s): ${stage.rows} row(s) staged in ${stage.files.length} ` +
          `file(s) of ${stage.files.reduce((sum, part) => sum + part.size, 0)} bytes, ${quarantined} quarantined`,
      );
    } catch (error) {
      failures.push({ entry: file.entry, error: await file.explain(error) });
    }
  }
  return staged;
}

async function quarantineRejects(
  context: RunContext,
  source: SourceDefinition,
  task: string,
  staged: StagedFile[],
): Promise<void> {
  const files = staged.filter((file) => file.quarantined > 0 && file.prepared.rejects);
  if (files.length === 0) return;
  await writeTable(
    context.ingestEngine,
    `(${files.map((file) => file.prepared.rejects?.quarantine).join(' UNION ALL ')})`,
    context.lake.quarantine({ layer: 'bronze', table: source.bronzeTable }),
    {
      mode: 'append',
      runId: context.runId,
      task,
      // As for the rows: a retried load of the same file does not quarantine its rejects twice.
      txns: files.map((file) => ({ appId: `${LANDED_FILE_TXN}${file.prepared.entry.checksum}`, version: 0 })),
    },
  );
}

async function rejectAndThrow(context: RunContext, failures: Failure[]): Promise<never> {
  const now = new Date().toISOString();
  await appendToManifest(
    context,
    failures.map(({ entry, error }) => ({
      ...entry,
      status: 'rejected',
      runId: context.runId,
      at: now,
      records: null,
      error: describeError(error),
    })),
  );
  const [first] = failures;
  const others = failures.length > 1 ? ` (and ${failures.length - 1} more rejected file(s))` : '';
  throw new SourceFileError(`${describeError(first?.error)}${others}`, {
    hint: 'the file is kept in landing and recorded as rejected; fix the source and add it again, or rerun with --retry-rejected',
  });
}
