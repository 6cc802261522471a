/**
 * When a table is stale: a table it reads has a commit newer than its own last commit, so its rows were computed
 * from an older state of that input — an input restored or written since, or a run that stopped before it. The
 * next run rebuilds it (its fingerprint holds its inputs' versions) and it is fresh again. Tables are named
 * `layer.table`; `lastCommit` gives when each was last committed (ms since epoch), `reads` which tables each reads.
 * Returns, for each stale table, the inputs newer than it.
 */
export function staleInputs(
  lastCommit: ReadonlyMap<string, number>,
  reads: ReadonlyMap<string, readonly string[]>,
): Map<string, string[]> {
  const stale = new Map<string, string[]>();
  for (const [table, inputs] of reads) {
    const own = lastCommit.get(table);
    if (own === undefined) continue;
    const newer = inputs.filter((input) => (lastCommit.get(input) ?? -Infinity) > own);
    if (newer.length > 0) stale.set(table, newer);
  }
  return stale;
}
