import { MedallionError } from '../core/errors.js';
import type { ObjectInfo } from '../storage/object-store.js';
import { commitFileName, LOG_DIR } from './delta-protocol.js';

/** One file of a table's `_delta_log`, with the version its name gives. */
export interface LogObject {
  version: number;
  object: ObjectInfo;
}

/** What a listing of `_delta_log` holds: the commit files and the checkpoint files, each oldest first. */
export interface LogListing {
  commits: LogObject[];
  checkpoints: LogObject[];
}

/** The log files a reader of one version replays. */
export interface LogSegment {
  version: number;
  /** The latest checkpoint at or below the version, whose state replaces every commit up to its own. */
  checkpoint: LogObject | undefined;
  /** The checkpoint's own commit (when still there, for its timestamp) and every commit after it, oldest first. */
  commits: LogObject[];
}

/** A table's Delta log lacks commits a reader needs: what it holds cannot be trusted as a version of the table. */
export class DeltaLogGapError extends MedallionError {
  override get permanent(): boolean {
    return true;
  }
}

/** The newest version the log names (a commit, or a checkpoint whose commit was removed); undefined when empty. */
export function latestVersion(listing: LogListing): number | undefined {
  const newest = Math.max(listing.commits.at(-1)?.version ?? -1, listing.checkpoints.at(-1)?.version ?? -1);
  return newest >= 0 ? newest : undefined;
}

/**
 * The files a reader of `version` replays, once it is sure they are whole: every commit after the latest
 * checkpoint at or below `version` (from version 0 without one) must be there. Commits older than that
 * checkpoint are not needed, so log retention may have removed them. Throws DeltaLogGapError naming what
 * is missing; `table` (the table's location) is for that message.
 */
export function logSegment(table: string, listing: LogListing, version: number): LogSegment {
  const checkpoint = listing.checkpoints.filter((entry) => entry.version <= version).at(-1);
  const commits = listing.commits.filter(
    (entry) => entry.version >= (checkpoint?.version ?? 0) && entry.version <= version,
  );
  const first = checkpoint ? checkpoint.version + 1 : 0;
  const needed = commits.map((entry) => entry.version).filter((found) => found >= first);
  const missing = missingRanges(needed, first, version);
  if (missing.length > 0) throw gapError(table, version, missing);
  return { version, checkpoint, commits };
}

/** Throws DeltaLogGapError unless the latest version can be read: no caller takes a log with a gap for a table. */
export function assertWhole(table: string, listing: LogListing): void {
  const latest = latestVersion(listing);
  if (latest !== undefined) logSegment(table, listing, latest);
}

/**
 * Every version a reader can rebuild, oldest first: a checkpoint's, and a commit's whose predecessor is one
 * too (or which is version 0). Throws DeltaLogGapError when the latest version is not among them.
 */
export function readableVersions(table: string, listing: LogListing): number[] {
  assertWhole(table, listing);
  const checkpoints = new Set(listing.checkpoints.map((entry) => entry.version));
  const named = [...new Set([...listing.commits, ...listing.checkpoints].map((entry) => entry.version))];
  const readable: number[] = [];
  for (const version of named.sort((a, b) => a - b)) {
    const followsReadable = version === 0 || readable.at(-1) === version - 1;
    // A version named only by a checkpoint is readable; one named by a commit needs its predecessor.
    if (checkpoints.has(version) || followsReadable) readable.push(version);
  }
  return readable;
}

/** Inclusive ranges of the versions from `first` to `last` that `present` (sorted) lacks. */
function missingRanges(present: readonly number[], first: number, last: number): [number, number][] {
  const ranges: [number, number][] = [];
  let expected = first;
  for (const version of [...present, last + 1]) {
    if (version > expected) ranges.push([expected, version - 1]);
    expected = version + 1;
  }
  return ranges;
}

/** Ranges named in a message before "…": a log can lack thousands of commits. */
const RANGES_NAMED = 5;

function gapError(table: string, version: number, missing: [number, number][]): DeltaLogGapError {
  const named = missing
    .slice(0, RANGES_NAMED)
    .map(([from, to]) => (from === to ? String(from) : `${from}–${to}`))
    .join(', ');
  const count = missing.reduce((sum, [from, to]) => sum + to - from + 1, 0);
  const [from] = missing[0] as [number, number];
  return new DeltaLogGapError(
    `the Delta log lacks ${count === 1 ? 'commit' : `${count} commits`} ${named}${missing.length > RANGES_NAMED ? ', …' : ''} ` +
      `that version ${version} is built from; medallion neither reads nor commits on a log with a gap`,
    {
      context: { file: table },
      hint:
        `restore the missing commit file(s) (${LOG_DIR}/${commitFileName(from)}…) from a backup; ` +
        'or, if a commit file after them was copied in by mistake, remove that stray file',
    },
  );
}
