/**
 * A table's history as people read it: per version, when, what operation, which run and task made it, and how many
 * rows and files it added and removed. A `remove` action carries no statistics, so the rows it removed are those
 * its file had when it was added: known from the version before (or from an `add` seen since).
 */
import { parseStats, type AddAction, type DeltaAction } from './delta-protocol.js';

/** The operation a restore commit names, as Delta's own RESTORE (Spark, delta-rs) names it. */
export const RESTORE_OPERATION = 'RESTORE';

/** What a commit says of itself (its commitInfo): when, what, and which run and task of medallion made it. */
export interface CommitFacts {
  /** When the version was committed (ms since epoch; 0 when the commit does not say). */
  timestamp: number;
  operation: string | null;
  /** `Append` or `Overwrite`. */
  mode: string | null;
  runId: string | null;
  task: string | null;
  /** The version a RESTORE brought back. */
  restoredVersion: number | null;
}

export interface VersionChange extends CommitFacts {
  version: number;
  /** Null when a file it added has no statistics. */
  rowsAdded: number | null;
  /** Null when a file it removed is not known (its `add` is older than the log holds) or had no statistics. */
  rowsRemoved: number | null;
  filesAdded: number;
  filesRemoved: number;
  bytesAdded: number;
  bytesRemoved: number;
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export function commitFacts(actions: readonly DeltaAction[]): CommitFacts {
  const info = actions.find((action) => 'commitInfo' in action)?.commitInfo;
  // Another writer's commit may lack the parameters.
  const parameters = info?.operationParameters as Record<string, unknown> | undefined;
  const restored = info?.operation === RESTORE_OPERATION ? text(parameters?.version) : null;
  return {
    timestamp: info?.timestamp ?? 0,
    operation: text(info?.operation),
    mode: text(parameters?.mode),
    runId: text(info?.runId),
    task: text(info?.task),
    restoredVersion: restored !== null && /^\d+$/.test(restored) ? Number(restored) : null,
  };
}

/** Rows of the files, or null when any of them is unknown. */
function sumRows(rows: (number | undefined)[]): number | null {
  return rows.some((count) => count === undefined)
    ? null
    : rows.reduce<number>((sum, count) => sum + (count ?? 0), 0);
}

/**
 * The changes of each commit, oldest first. `before`: the files of the version preceding the first commit (none
 * when the first commit is version 0), so that the rows each removal takes away are known.
 */
export function versionChanges(
  before: readonly AddAction[],
  commits: readonly { version: number; actions: readonly DeltaAction[] }[],
): VersionChange[] {
  const rowsOf = new Map<string, number | undefined>(
    before.map((file) => [file.path, parseStats(file)?.numRecords]),
  );
  return commits.map(({ version, actions }) => {
    const adds = actions.flatMap((action) => ('add' in action ? [action.add] : []));
    const removes = actions.flatMap((action) => ('remove' in action ? [action.remove] : []));
    const change: VersionChange = {
      version,
      ...commitFacts(actions),
      rowsAdded: sumRows(adds.map((add) => parseStats(add)?.numRecords)),
      rowsRemoved: sumRows(removes.map((remove) => rowsOf.get(remove.path))),
      filesAdded: adds.length,
      filesRemoved: removes.length,
      bytesAdded: adds.reduce((sum, add) => sum + add.size, 0),
      bytesRemoved: removes.reduce((sum, remove) => sum + (remove.size ?? 0), 0),
    };
    for (const remove of removes) rowsOf.delete(remove.path);
    for (const add of adds) rowsOf.set(add.path, parseStats(add)?.numRecords);
    return change;
  });
}
