import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../engine/duckdb/engine.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { DeltaTable } from '../table/delta-table.js';
import { writeTable } from './table-writer.js';

let engine: DuckDbEngine;
let store: LocalDiskStore;

beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'table-writer-'));
  engine = await DuckDbEngine.create({ scratchDir: path.join(dir, 'scratch') });
  store = new LocalDiskStore(path.join(dir, 'lake'));
});
afterAll(() => engine.close());

describe('writing a table version', () => {
  it('applies the new version of a task once, however often the task of that run is tried', async () => {
    const table = new DeltaTable(store, 'gold_totals');
    const write = (runId: string) =>
      writeTable(engine, '(SELECT 1 AS n)', table, { mode: 'overwrite', runId, task: 'gold.totals' });
    expect(await write('run_a')).toMatchObject({ version: 0, alreadyCommitted: false });
    // A retry of the same run's task (after a crash between commit and report) commits nothing more.
    expect(await write('run_a')).toMatchObject({ version: 0, alreadyCommitted: true });
    expect(await write('run_b')).toMatchObject({ version: 1, alreadyCommitted: false });
    expect(await table.versions()).toEqual([0, 1]);
  });

  it('appends every time: appends carry their own transaction ids when they need them', async () => {
    const table = new DeltaTable(store, 'events');
    const append = () =>
      writeTable(engine, '(SELECT 1 AS n)', table, { mode: 'append', runId: 'run_a', task: 'manifest' });
    await append();
    await append();
    expect(await table.versions()).toEqual([0, 1]);
  });
});
