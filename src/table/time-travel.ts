/**
 * A table as it was at a time: the latest version committed at or before it, by the time each commit records
 * (its commitInfo), which a copy of the log keeps where file times would not.
 */
import { commitFacts } from './delta-history.js';
import type { DeltaTable } from './delta-table.js';

/** When `version` was committed (ms since epoch), from its commit, else from its snapshot (a checkpointed one). */
export async function commitTime(table: DeltaTable, version: number): Promise<number> {
  const [commit] = await table.commits(version, version);
  const recorded = commit && commitFacts(commit.actions).timestamp;
  return recorded || ((await table.snapshot(version))?.timestamp ?? 0);
}

/**
 * The latest readable version committed at or before `at`; undefined when the table had none then. Commits are
 * in time order, so a binary search reads a handful of them, not the whole log.
 */
export async function versionAsOf(table: DeltaTable, at: Date): Promise<number | undefined> {
  const versions = await table.versions();
  let [low, high] = [0, versions.length - 1];
  let found: number | undefined;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const version = versions[middle] as number;
    if ((await commitTime(table, version)) <= at.getTime()) {
      found = version;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}
