/**
 * `tables restore`: a bronze, silver or gold table brought back to an older version by a new commit
 * (table/restore.ts). The tables that read it are stale from then on, and the next run rebuilds them; the table
 * itself is kept by that run as long as its own inputs do not change (see runner/fingerprints.ts).
 */
import { CommitConflictError, ConfigError, NotFoundError } from '../core/errors.js';
import { snapshotRows } from '../table/delta-table.js';
import { commitInfoOf, missingFiles, restoreRequest } from '../table/restore.js';
import type { AppContext } from './context.js';
import type { LakeReader } from './lake-reader.js';
import { readersOf, tableReads } from './table-lineage.js';
import {
  openTable,
  requireSnapshot,
  tableName,
  type LakeContext,
  type TableLayer,
  type TableRef,
} from './tables.js';

/** The landing manifest and the quarantine tables follow what runs record of their tables: never restored alone. */
const RESTORABLE: readonly TableLayer[] = ['bronze', 'silver', 'gold'];

export interface RestoreResult {
  layer: TableLayer;
  table: string;
  /** The version brought back. */
  restoredVersion: number;
  /** The new version whose state is the restored one's. */
  version: number;
  rows: number;
  files: number;
  committedAt: string;
  /** The tables that read it: stale until the next run rebuilds them. */
  staleReaders: string[];
}

export async function restoreTable(
  ctx: LakeContext & Pick<AppContext, 'actor'>,
  reader: LakeReader,
  ref: TableRef,
  version: number,
): Promise<RestoreResult> {
  const name = tableName(ref);
  if (!RESTORABLE.includes(ref.layer)) {
    throw new ConfigError(`${name} cannot be restored: only ${RESTORABLE.join(', ')} tables can`, {
      context: { field: 'table' },
      hint: 'the landing manifest and the quarantine tables follow what runs record of their tables',
    });
  }
  const { lake, table } = await openTable(ctx, reader, ref);
  const current = await requireSnapshot(table, ref);
  const target = await requireSnapshot(table, ref, { version });
  if (target.version === current.version) {
    throw new ConfigError(`${name} is at version ${version} already`, {
      context: { field: 'version' },
      hint: `restore one of its earlier versions (\`medallion tables history ${name}\`)`,
    });
  }
  const missing = await missingFiles(table, target);
  if (missing.length > 0) {
    throw new NotFoundError(
      `version ${version} of ${name} cannot be restored: ${missing.length} of its ${target.files.length} data files are gone`,
      {
        context: { field: 'version' },
        hint: `vacuum removed them (${missing[0]}…); a version within the vacuum's retention can be restored`,
      },
    );
  }
  const [commit] = await table.commits(version, version);
  const request = restoreRequest(current, target, commit && commitInfoOf(commit.actions), {
    restoredBy: ctx.actor,
  });
  const committed = await table.commit(request).catch((error: unknown) => {
    if (!(error instanceof CommitConflictError)) throw error;
    throw new CommitConflictError(`${name} changed while it was being restored: ${error.message}`, {
      context: { field: 'table' },
      hint: `nothing was restored; look at \`medallion tables history ${name}\`, then restore again`,
    });
  });
  const restored = await requireSnapshot(table, ref, { version: committed.version });
  return {
    layer: ref.layer,
    table: ref.table,
    restoredVersion: target.version,
    version: committed.version,
    rows: snapshotRows(restored),
    files: restored.files.length,
    committedAt: new Date(restored.timestamp).toISOString(),
    staleReaders: readersOf(await tableReads(ctx, lake), name),
  };
}
