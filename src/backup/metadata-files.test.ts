import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError } from '../core/errors.js';
import type { SnapshotRow } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { dumpedRows, dumpMetadata } from './metadata-files.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-metadata-files-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rowsOf(file: string): Promise<SnapshotRow[]> {
  const rows: SnapshotRow[] = [];
  for await (const page of dumpedRows(file, file)) rows.push(...page);
  return rows;
}

describe('the metadata store as files', () => {
  it('writes one file per table that reads back as the same rows, in the same bytes for the same rows', async () => {
    const store = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.db')}`);
    try {
      await store.upsertPipeline('sales', 'def-1');
      await store.createUser({ id: 'u1', name: 'zoë "the admin"', role: 'admin', passwordHash: 'h\n' });
      const first = await dumpMetadata(store, await mkdtemp(path.join(dir, 'a-')), () => undefined);
      const second = await dumpMetadata(store, await mkdtemp(path.join(dir, 'b-')), () => undefined);
      const users = first.tables.find((table) => table.table === 'medallion_users');
      expect(users?.rows).toBe(1);
      expect(await rowsOf(users!.path)).toEqual([
        expect.objectContaining({ id: 'u1', name: 'zoë "the admin"', password_hash: 'h\n', disabled: 0 }),
      ]);
      for (const [index, table] of first.tables.entries()) {
        expect(await readFile(table.path), table.table).toEqual(await readFile(second.tables[index]!.path));
      }
    } finally {
      await store.close();
    }
  });

  it('refuses a line that is no row, naming the file and the line', async () => {
    const file = path.join(dir, 'bad.ndjson.gz');
    await writeFile(file, gzipSync('{"id":"r1"}\n{"id":["a list"]}\n'));
    const error = await rowsOf(file).catch((caught: unknown) => caught);
    expect(describeError(error)).toBe(
      `${file} (line 2): not a row of the metadata database: a JSON object of text, numbers and nulls`,
    );
  });
});
