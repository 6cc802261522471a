/**
 * Which data files a merge coalesces besides the ones it must rewrite. A copy-on-write merge writes its new rows
 * in files of their own, so that the next merge replacing some of them rewrites small files, not the table; left
 * alone, that adds files every run, and every reader pays for each. Files are sorted into tiers of size (each
 * tier FANOUT times the one below); a partition's tier holding FANOUT files or more is coalesced into one file of
 * the tier above, as a log-structured merge does. Each row is so rewritten about once per tier, and a partition
 * keeps fewer than FANOUT files per tier. Files are written at most MAX_ROWS rows each (where the engine can bound
 * them), so that one replaced row never rewrites more; a file of half that or more is full and left alone.
 */

export interface SizedFile {
  path: string;
  /** The file's partition values, as one comparable string. */
  partition: string;
  /** Its rows; Infinity when unknown (the file is then left alone). */
  rows: number;
}

export interface CompactionPolicy {
  /** How many files of one tier make it coalesce, and the size ratio between tiers. */
  fanout: number;
  /** The top of the lowest tier: every smaller file is in it. */
  baseRows: number;
  /** The most rows a file is written with; files of half that or more are never coalesced. */
  maxRows: number;
}

export const DEFAULT_COMPACTION: CompactionPolicy = {
  fanout: 4,
  baseRows: 2_048,
  maxRows: 32_768,
};

export interface RewritePlan {
  /** The files coalesced though they hold no replaced key. */
  coalesced: string[];
  /**
   * Every file to rewrite, grouped by tier: each group's kept rows are staged together, apart from the other
   * groups', so that rows of small files do not end in the large file a stray replaced key had rewritten (the next
   * merge replacing one of them would rewrite all of it again).
   */
  groups: string[][];
}

/** What a merge rewrites: the files holding a replaced key (`affected`), and the small files it coalesces. */
export function planRewrite(
  files: readonly SizedFile[],
  affected: ReadonlySet<string>,
  policy: CompactionPolicy = DEFAULT_COMPACTION,
): RewritePlan {
  const tiers = new Map<string, string[]>();
  for (const file of files) {
    if (affected.has(file.path) || file.rows >= policy.maxRows / 2) continue;
    const tier = `${file.partition}\u0000${tierOf(file.rows, policy)}`;
    tiers.set(tier, [...(tiers.get(tier) ?? []), file.path]);
  }
  const coalesced = [...tiers.values()].filter((paths) => paths.length >= policy.fanout).flat();
  const rewritten = new Set([...affected, ...coalesced]);
  const groups = new Map<number, string[]>();
  for (const file of files) {
    if (!rewritten.has(file.path)) continue;
    const tier = tierOf(file.rows, policy);
    groups.set(tier, [...(groups.get(tier) ?? []), file.path]);
  }
  return { coalesced, groups: [...groups.entries()].sort(([a], [b]) => a - b).map(([, paths]) => paths) };
}

function tierOf(rows: number, policy: CompactionPolicy): number {
  if (!Number.isFinite(rows)) return Infinity;
  return rows <= policy.baseRows
    ? 0
    : Math.floor(Math.log(rows / policy.baseRows) / Math.log(policy.fanout)) + 1;
}
