/**
 * The metadata store's snapshot as files: one gzip-compressed NDJSON file per table, a JSON object per row
 * (text, numbers and nulls: the same on SQLite and PostgreSQL), and those files read back a page at a time.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { z } from 'zod';
import { MedallionError } from '../core/errors.js';
import type { MetadataStore, SnapshotRow } from '../metadata/metadata-store.js';

export interface DumpedTable {
  table: string;
  rows: number;
  /** The file holding its rows. */
  path: string;
}

/** Rows handed to the store at a time when a table is loaded back. */
const PAGE_ROWS = 1_000;

const rowSchema = z.record(z.string(), z.union([z.string(), z.number(), z.null()]));

/** Reads the store's snapshot into one file per table under `dir`; `onTable` hears of each as it is written. */
export async function dumpMetadata(
  store: MetadataStore,
  dir: string,
  onTable: (table: DumpedTable) => void,
): Promise<{ migration: number; tables: DumpedTable[] }> {
  const tables: DumpedTable[] = [];
  const { migration } = await store.readSnapshot(async ({ table, pages }) => {
    const dumped = { table, rows: 0, path: path.join(dir, `${table}.ndjson.gz`) };
    async function* lines(): AsyncGenerator<string> {
      for await (const page of pages) {
        dumped.rows += page.length;
        yield page.map((row) => `${JSON.stringify(row)}\n`).join('');
      }
    }
    await pipeline(Readable.from(lines()), createGzip(), createWriteStream(dumped.path));
    tables.push(dumped);
    onTable(dumped);
  });
  return { migration, tables };
}

/** The rows of a table's file, a page at a time; a line that is no row is an error naming `name` and the line. */
export async function* dumpedRows(file: string, name: string): AsyncGenerator<SnapshotRow[]> {
  const compressed = createReadStream(file);
  const input = compressed.pipe(createGunzip());
  compressed.on('error', (error) => input.destroy(error));
  let page: SnapshotRow[] = [];
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line += 1;
    page.push(parseRow(text, name, line));
    if (page.length === PAGE_ROWS) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

function parseRow(text: string, name: string, line: number): SnapshotRow {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const row = rowSchema.safeParse(value);
  if (!row.success) {
    throw new MedallionError('not a row of the metadata database: a JSON object of text, numbers and nulls', {
      context: { file: name, line },
    });
  }
  return row.data;
}
