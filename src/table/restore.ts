/**
 * Bringing a table's older version back, as Delta's RESTORE does: a new commit whose state is that version's, so
 * that history only grows (the restore itself can be undone by another). And which version a writer last made,
 * looking past the restores on top of it: what a task's fingerprint holds of its own table.
 */
import { joinKey } from '../storage/object-store.js';
import { commitFacts, RESTORE_OPERATION } from './delta-history.js';
import type { CommitInfoAction, DeltaAction } from './delta-protocol.js';
import { decodeDeltaPath, type CommitRequest, type DeltaTable, type TableSnapshot } from './delta-table.js';

/**
 * Fields of commitInfo where medallion keeps what a version was made from (e.g. `medallionInputs`, the input
 * versions an incremental table consumed): they belong to the rows, so a restore brings them back with them.
 */
const MEDALLION_FIELD = /^medallion/;

function medallionFields(info: CommitInfoAction | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(info ?? {}).filter(([name]) => MEDALLION_FIELD.test(name)));
}

export function commitInfoOf(actions: readonly DeltaAction[]): CommitInfoAction | undefined {
  return actions.find((action) => 'commitInfo' in action)?.commitInfo;
}

/**
 * The commit that makes `target`'s state current again on top of `current`: its files back, the others removed,
 * its schema and partitioning (written when they differ), and the medallion facts of its commit (`targetInfo`).
 * A file both versions hold is left alone rather than removed and added in one commit, as Delta's RESTORE does:
 * the state is the same, and no reader has to decide what a path both removed and added means.
 */
export function restoreRequest(
  current: TableSnapshot,
  target: TableSnapshot,
  targetInfo: CommitInfoAction | undefined,
  info: Record<string, unknown> = {},
): CommitRequest {
  const inCurrent = new Set(current.files.map((file) => file.path));
  const inTarget = new Set(target.files.map((file) => file.path));
  return {
    mode: 'rewrite',
    schema: target.schema,
    partitionColumns: target.partitionColumns,
    files: [],
    removes: current.files.filter((file) => !inTarget.has(file.path)).map((file) => file.path),
    reAdds: target.files.filter((file) => !inCurrent.has(file.path)),
    readVersion: current.version,
    operation: RESTORE_OPERATION,
    parameters: { version: String(target.version) },
    info: { ...medallionFields(targetInfo), ...info },
  };
}

/** The data files of `snapshot` no longer in the table's directory (removed by vacuum): a restore cannot use it. */
export async function missingFiles(table: DeltaTable, snapshot: TableSnapshot): Promise<string[]> {
  const present = await Promise.all(
    snapshot.files.map((file) => table.store.exists(joinKey(table.root, decodeDeltaPath(file.path)))),
  );
  return snapshot.files.filter((_, index) => !present[index]).map((file) => file.path);
}

/** Commits read at once when looking back past restores: one listing for the usual one or two. */
const LOOK_BACK = 4;

/**
 * The newest version a writer made, looking past restore commits on top of it (medallion's, or Delta's RESTORE
 * by another engine); -1 when there is no table. A version whose commit the log no longer holds counts as written.
 */
export async function writtenVersion(table: DeltaTable): Promise<number> {
  let newest = (await table.versions()).at(-1) ?? -1;
  while (newest >= 0) {
    const from = Math.max(0, newest - LOOK_BACK);
    const held = new Map(
      (await table.commits(from, newest)).map((commit) => [commit.version, commit.actions]),
    );
    for (let version = newest; version >= from; version -= 1) {
      const actions = held.get(version);
      if (!actions || commitFacts(actions).operation !== RESTORE_OPERATION) return version;
    }
    newest = from - 1;
  }
  return -1;
}
