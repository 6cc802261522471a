/** `medallion query "SQL"`: one read-only SELECT over the lake's tables (src/app/query.ts), for people or files. */
import { createReadStream } from 'node:fs';
import { copyFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Json } from '@duckdb/node-api';
import { projectLakeReader } from '../app/lake-reader.js';
import {
  exportQuery,
  queryRows,
  type FileFormat,
  type QueryFile,
  type QueryFormat,
  type QueryRows,
  type TableRead,
} from '../app/query.js';
import { ConfigError } from '../core/errors.js';
import { databaseConnections } from './connections-command.js';
import { fail } from './exit.js';
import { toInstant } from './output.js';
import { openProject, projectLake } from './project-context.js';
import { formatNumber, table } from './render.js';

export interface QueryFlags {
  asOf?: string;
  format: QueryFormat;
  out?: string;
  limit?: number;
  lake?: string;
  db?: string;
}

/** Rows the table format shows unless --limit says otherwise. */
const DEFAULT_LIMIT = 100;
/** Characters of a value a table cell shows. */
const CELL_CHARS = 60;
const NUMERIC_TYPE = /^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|FLOAT|DOUBLE|DECIMAL)\b/;

/** Flags that do not go together, refused before the lake is opened. */
function checkFlags(flags: QueryFlags): void {
  const flag = (field: string, message: string, hint: string) =>
    new ConfigError(message, { context: { field }, hint });
  if (flags.format === 'parquet' && flags.out === undefined) {
    throw flag('--out', '--format parquet needs --out FILE', 'Parquet is not written to a terminal');
  }
  if (flags.format === 'table' && flags.out !== undefined) {
    throw flag('--out', '--out is for --format csv, json or parquet', 'the table format is for reading');
  }
  if (flags.format !== 'table' && flags.limit !== undefined) {
    throw flag('--limit', '--limit is for --format table', 'write LIMIT in the query to write fewer rows');
  }
}

function cell(value: Json): string {
  if (value === null) return 'NULL';
  const text = (typeof value === 'string' ? value : JSON.stringify(value)).replace(/[\r\n\t]+/g, ' ');
  return text.length > CELL_CHARS ? `${text.slice(0, CELL_CHARS - 1)}…` : text;
}

function versionsRead(tables: readonly TableRead[], asOf: string | undefined): string {
  if (tables.length === 0) return 'no table read';
  const read = tables.map((entry) => `${entry.layer}.${entry.table} v${entry.version}`).join(', ');
  return `read ${read}${asOf ? ` (as of ${asOf})` : ''}`;
}

/** The rows as a table for people, then how many there are and which versions they come from. */
function renderRows(result: QueryRows, asOf?: string): string {
  const headers = result.columns.map((column) => column.name);
  const text = result.columns
    .filter((column) => !NUMERIC_TYPE.test(column.type))
    .map((column) => column.name);
  const shown = result.rows.length;
  const count =
    shown < result.total
      ? `${formatNumber(shown)} of ${formatNumber(result.total)} rows shown: ` +
        `${formatNumber(result.total - shown)} not shown (--limit N to see more, --format csv|json|parquet for all)`
      : `${formatNumber(result.total)} row${result.total === 1 ? '' : 's'}`;
  const rows = table(
    headers,
    result.rows.map((row) => row.map(cell)),
    text,
  );
  return `${rows}\n\n${count}\n${versionsRead(result.tables, asOf)}`;
}

/** The file moved to `out` (copied when it is on another device), or written to stdout. */
async function deliver(file: QueryFile, format: FileFormat, out: string | undefined, asOf?: string) {
  if (out === undefined) {
    await pipeline(createReadStream(file.path), process.stdout, { end: false });
    return;
  }
  const target = path.resolve(out);
  await rename(file.path, target).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EXDEV') throw error;
    await copyFile(file.path, target);
  });
  process.stdout.write(
    `wrote ${formatNumber(file.rows)} row${file.rows === 1 ? '' : 's'} to ${target} (${format}); ` +
      `${versionsRead(file.tables, asOf)}\n`,
  );
}

export async function queryCommand(sql: string, flags: QueryFlags): Promise<void> {
  try {
    checkFlags(flags);
    const project = await openProject();
    const lake = await projectLake(project, flags.lake);
    const connections = databaseConnections(project, { ...flags, lake });
    const reader = projectLakeReader(project, connections);
    const request = { lake, sql, ...(flags.asOf !== undefined && { asOf: toInstant(flags.asOf) }) };
    try {
      if (flags.format === 'table') {
        const result = await queryRows(reader, request, flags.limit ?? DEFAULT_LIMIT);
        process.stdout.write(`${renderRows(result, flags.asOf)}\n`);
      } else {
        const file = await exportQuery(reader, request, flags.format);
        try {
          await deliver(file, flags.format, flags.out, flags.asOf);
        } finally {
          await file.remove();
        }
      }
    } finally {
      await reader.close();
    }
  } catch (error) {
    fail(error);
  }
}
