import { describe, expect, it } from 'vitest';
import { versionChanges } from './delta-history.js';
import type { AddAction, DeltaAction } from './delta-protocol.js';

const add = (path: string, rows?: number): AddAction => ({
  path,
  partitionValues: {},
  size: 100,
  modificationTime: 0,
  dataChange: true,
  ...(rows !== undefined && { stats: JSON.stringify({ numRecords: rows }) }),
});

const commit = (version: number, mode: string, actions: DeltaAction[]) => ({
  version,
  actions: [
    {
      commitInfo: {
        timestamp: 1_000 + version,
        operation: 'WRITE',
        operationParameters: { mode },
        engineInfo: 'test',
        runId: `run_${version}`,
        task: 'gold.t',
      },
    },
    ...actions,
  ],
});

const remove = (path: string): DeltaAction => ({
  remove: { path, deletionTimestamp: 0, dataChange: true, size: 100 },
});

describe('a table’s history', () => {
  it('counts the rows a removal takes away from the add that brought its file, in this window or before it', () => {
    const changes = versionChanges(
      [add('old.parquet', 7)],
      [
        commit(3, 'Append', [{ add: add('a.parquet', 5) }]),
        commit(4, 'Overwrite', [remove('old.parquet'), remove('a.parquet'), { add: add('b.parquet', 9) }]),
      ],
    );
    expect(changes).toEqual([
      expect.objectContaining({ version: 3, mode: 'Append', runId: 'run_3', rowsAdded: 5, rowsRemoved: 0 }),
      expect.objectContaining({
        version: 4,
        timestamp: 1_004,
        mode: 'Overwrite',
        rowsAdded: 9,
        rowsRemoved: 12,
        filesRemoved: 2,
        bytesRemoved: 200,
      }),
    ]);
  });

  it('says it does not know the rows of a file it was never told of, or that has no statistics', () => {
    const [unknown, unstated] = versionChanges(
      [],
      [commit(5, 'Overwrite', [remove('gone.parquet'), { add: add('c.parquet') }]), commit(6, 'Append', [])],
    );
    expect(unknown).toMatchObject({ rowsRemoved: null, rowsAdded: null });
    expect(unstated).toMatchObject({ rowsRemoved: 0, rowsAdded: 0 });
  });
});
