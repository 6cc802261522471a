/**
 * `medallion tables`: the lake's tables (list, history, show, diff, restore) through the same use cases as the
 * API's lake routes (src/app/tables.ts and its neighbours). A table is written `layer.table`. Tables for people,
 * `--json` for scripts; exit codes per EXIT.
 */
import { formatBytes } from '../core/alert-rules.js';
import { RESTORE_OPERATION } from '../table/delta-history.js';
import { ConfigError } from '../core/errors.js';
import { projectLakeReader, type LakeReader } from '../app/lake-reader.js';
import { diffVersions } from '../app/table-diff.js';
import { restoreTable } from '../app/table-restore.js';
import { showTable, type Row } from '../app/table-rows.js';
import {
  listLakes,
  listTables,
  tableHistory,
  tableName,
  type LakeContext,
  type ColumnInfo,
  type LakeInfo,
  type TableLayer,
  type TableRef,
} from '../app/tables.js';
import { databaseConnections } from './connections-command.js';
import { fail } from './exit.js';
import { note, print, toInstant, when } from './output.js';
import { cliActor, openProject } from './project-context.js';
import { formatNumber, table } from './render.js';

export interface TablesFlags {
  /** The lake (default: the project's one lake). */
  lake?: string;
  /** The metadata database, for named connections. */
  db?: string;
  json?: boolean;
}

interface Tables {
  ctx: LakeContext & { actor: string };
  reader: LakeReader;
  lake: LakeInfo;
  /** The table an argument names, in that lake. */
  ref(argument: string): TableRef;
}

/** --lake, else the one lake of the project's pipelines. */
async function chosenLake(ctx: LakeContext, flag: string | undefined): Promise<LakeInfo> {
  const lakes = await listLakes(ctx);
  const [only, ...others] = lakes;
  if (only && others.length === 0) return only;
  throw new ConfigError(
    lakes.length === 0 ? 'no lake to read' : `the project has ${lakes.length} lakes: say which`,
    {
      context: { field: '--lake' },
      hint:
        lakes.length === 0 || flag
          ? 'pass --lake DIR (or s3://…), or run in a project whose pipelines have a lake'
          : `--lake one of ${lakes.map((lake) => lake.location).join(', ')}`,
    },
  );
}

/** `gold.top_100_companies` → its layer and table. */
function parseTable(argument: string): Pick<TableRef, 'layer' | 'table'> {
  const dot = argument.indexOf('.');
  if (dot <= 0) {
    throw new ConfigError(`"${argument}" does not name a table: write it layer.table`, {
      context: { field: 'table' },
      hint: 'e.g. gold.top_100_companies; `medallion tables` lists them',
    });
  }
  return { layer: argument.slice(0, dot) as TableLayer, table: argument.slice(dot + 1) };
}

/** Opens the project and its lake, does the work, closes the reader; any error exits as fail() says. */
async function withTables(flags: TablesFlags, work: (tables: Tables) => Promise<void>): Promise<void> {
  try {
    const project = await openProject();
    const locations = flags.lake ? { lake: project.lakeFromFlag(flags.lake) } : undefined;
    const ctx = { project, actor: cliActor(), ...(locations && { locations }) };
    const lake = await chosenLake(ctx, flags.lake);
    // The metadata database is opened only when the lake names a connection (s3://NAME@…).
    const reader = projectLakeReader(
      project,
      databaseConnections(project, { ...flags, lake: lake.location }),
    );
    try {
      await work({
        ctx,
        reader,
        lake,
        ref: (argument) => ({ ...parseTable(argument), lake: lake.location }),
      });
    } finally {
      await reader.close();
    }
  } catch (error) {
    fail(error);
  }
}

/** A value in a table cell: text cut to a width people can read across, nested values as JSON. */
function cell(value: unknown): string {
  const text =
    value === null || value === undefined
      ? '—'
      : typeof value === 'number'
        ? formatNumber(value)
        : typeof value === 'string'
          ? value
          : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

const NUMBER_TYPE = /^(byte|short|integer|long|float|double|decimal)/;

/** Rows under their columns' names: figures aligned right, the rest left. */
function rowsTable(columns: readonly ColumnInfo[], rows: readonly Row[]): string {
  return table(
    columns.map((column) => column.name),
    rows.map((row) => columns.map((column) => cell(row[column.name]))),
    columns.filter((column) => !NUMBER_TYPE.test(column.type)).map((column) => column.name),
  );
}

// ── list ────────────────────────────────────────────────────────────────────────────────────────────────────

export async function tablesCommand(flags: TablesFlags): Promise<void> {
  await withTables(flags, async ({ ctx, reader, lake }) => {
    const listing = await listTables(ctx, reader, lake.location);
    print(flags.json, listing, () =>
      [
        `${lake.location}: ${listing.tables.length} table(s)`,
        table(
          ['layer', 'table', 'version', 'rows', 'size', 'last commit', 'run', 'stale'],
          listing.tables.map((entry) => [
            entry.layer,
            entry.table,
            String(entry.version),
            formatNumber(entry.rows),
            formatBytes(entry.bytes),
            when(entry.committedAt),
            entry.runId ?? (entry.operation === RESTORE_OPERATION ? 'restore' : '—'),
            entry.staleInputs.length > 0 ? `stale: ${entry.staleInputs.join(', ')} newer` : '',
          ]),
          ['table', 'run', 'stale'],
        ),
        ...listing.unreadable.map(
          (entry) => `! ${entry.layer}.${entry.table} cannot be read: ${entry.error}`,
        ),
      ].join('\n'),
    );
  });
}

// ── history ─────────────────────────────────────────────────────────────────────────────────────────────────

export async function historyCommand(name: string, flags: TablesFlags & { limit: number }): Promise<void> {
  await withTables(flags, async ({ ctx, reader, ref }) => {
    const history = await tableHistory(ctx, reader, ref(name), { limit: flags.limit });
    const signed = (sign: string, value: number | null) =>
      value === null ? '?' : `${sign}${formatNumber(value)}`;
    print(flags.json, history, () =>
      table(
        ['version', 'committed', 'operation', 'run', 'task', 'rows added', 'rows removed', 'files'],
        history.versions.map((entry) => [
          String(entry.version),
          when(entry.committedAt),
          entry.restoredVersion === null
            ? [entry.operation, entry.mode].filter(Boolean).join(' ') || '—'
            : `RESTORE of version ${entry.restoredVersion}`,
          entry.runId ?? '—',
          entry.task ?? '—',
          signed('+', entry.rowsAdded),
          signed('−', entry.rowsRemoved),
          `+${entry.filesAdded} −${entry.filesRemoved}`,
        ]),
        ['operation', 'run', 'task'],
      ),
    );
  });
}

// ── show ────────────────────────────────────────────────────────────────────────────────────────────────────

export interface ShowFlags extends TablesFlags {
  version?: number;
  asOf?: string;
  limit: number;
}

export async function showCommand(name: string, flags: ShowFlags): Promise<void> {
  await withTables(flags, async ({ ctx, reader, ref }) => {
    const shown = await showTable(ctx, reader, ref(name), {
      ...(flags.version !== undefined && { version: flags.version }),
      ...(flags.asOf !== undefined && { asOf: toInstant(flags.asOf) }),
      limit: flags.limit,
    });
    const { table: detail, rows: page } = shown;
    print(flags.json, shown, () =>
      [
        `${tableName(detail)} version ${detail.version} (latest ${detail.latestVersion}), committed ${when(detail.committedAt)}` +
          ` by ${detail.runId ?? detail.operation ?? '—'}: ${formatNumber(detail.rows)} rows in ${detail.files} file(s), ${formatBytes(detail.bytes)}` +
          (detail.partitionColumns.length ? `, partitioned by ${detail.partitionColumns.join(', ')}` : ''),
        '',
        table(
          ['column', 'type', 'nullable'],
          detail.columns.map((column) => [column.name, column.type, column.nullable ? 'yes' : 'no']),
          ['type', 'nullable'],
        ),
        '',
        ...(page.rows.length
          ? [`rows 1–${page.rows.length} of ${formatNumber(page.total)}:`, rowsTable(page.columns, page.rows)]
          : ['no rows']),
      ].join('\n'),
    );
  });
}

// ── diff ────────────────────────────────────────────────────────────────────────────────────────────────────

export async function diffCommand(
  name: string,
  flags: TablesFlags & { from: number; to: number },
): Promise<void> {
  await withTables(flags, async ({ ctx, reader, ref }) => {
    const diff = await diffVersions(ctx, reader, ref(name), { from: flags.from, to: flags.to });
    const columns = diff.columns;
    const changes = [
      ...diff.schemaChanges.added.map((column) => `column ${column} added`),
      ...diff.schemaChanges.removed.map((column) => `column ${column} removed`),
    ];
    print(flags.json, diff, () =>
      [
        `${name} from version ${diff.from} to ${diff.to}: ${formatNumber(diff.added.rows)} row(s) added, ${formatNumber(diff.removed.rows)} removed` +
          (changes.length ? `; ${changes.join(', ')}` : ''),
        ...(diff.added.rows
          ? ['', `added (first ${diff.added.sample.length}):`, rowsTable(columns, diff.added.sample)]
          : []),
        ...(diff.removed.rows
          ? ['', `removed (first ${diff.removed.sample.length}):`, rowsTable(columns, diff.removed.sample)]
          : []),
      ].join('\n'),
    );
  });
}

// ── restore ─────────────────────────────────────────────────────────────────────────────────────────────────

export async function restoreCommand(name: string, flags: TablesFlags & { version: number }): Promise<void> {
  await withTables(flags, async ({ ctx, reader, ref }) => {
    const restored = await restoreTable(ctx, reader, ref(name), flags.version);
    print(
      flags.json,
      restored,
      () =>
        `${name} restored to version ${restored.restoredVersion} as version ${restored.version}: ` +
        `${formatNumber(restored.rows)} rows in ${restored.files} file(s)`,
    );
    if (!flags.json) {
      note(
        `the next run keeps it while its own inputs are unchanged` +
          (restored.staleReaders.length > 0
            ? `; stale until that run rebuilds them: ${restored.staleReaders.join(', ')}`
            : ''),
      );
    }
  });
}
