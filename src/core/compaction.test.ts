import { describe, expect, it } from 'vitest';
import { planRewrite, type SizedFile } from './compaction.js';

const policy = { fanout: 4, baseRows: 1_000, maxRows: 100_000 };

function files(partition: string, rows: number[], prefix = partition): SizedFile[] {
  return rows.map((count, index) => ({ path: `${prefix}-${index}`, partition, rows: count }));
}

/** The files coalesced, besides the affected ones. */
const coalesced = (sized: readonly SizedFile[], affected: ReadonlySet<string> = new Set()): string[] =>
  planRewrite(sized, affected, policy).coalesced;

describe('planRewrite', () => {
  it('coalesces a tier of a partition once it holds as many files as the fanout, not before', () => {
    expect(coalesced(files('p', [100, 200, 300]))).toEqual([]);
    expect(coalesced(files('p', [100, 200, 300, 1_000]))).toEqual(['p-0', 'p-1', 'p-2', 'p-3']);
  });

  it('counts tiers apart: small files do not pull a larger tier into the rewrite', () => {
    const small = files('p', [10, 20, 30, 40], 'small');
    const large = files('p', [5_000, 6_000, 7_000], 'large');
    expect(coalesced([...small, ...large])).toEqual(['small-0', 'small-1', 'small-2', 'small-3']);
  });

  it('counts partitions apart, and leaves out the files the merge rewrites anyway', () => {
    const a = files('a', [10, 20, 30, 40]);
    const b = files('b', [10, 20]);
    expect(coalesced([...a, ...b], new Set(['a-0']))).toEqual([]);
    expect(coalesced([...a, ...b], new Set(['b-0']))).toEqual(['a-0', 'a-1', 'a-2', 'a-3']);
  });

  it('groups the files to rewrite by tier, so a large affected file does not take the small ones in', () => {
    const small = files('p', [10, 20, 30, 40, 50], 'small');
    const large = files('p', [20_000], 'large');
    expect(planRewrite([...large, ...small], new Set(['large-0', 'small-0']), policy).groups).toEqual([
      ['small-0', 'small-1', 'small-2', 'small-3', 'small-4'],
      ['large-0'],
    ]);
  });

  it('leaves alone full files (half the most rows a file is written with, or more) and files of unknown size', () => {
    expect(coalesced(files('p', [50_000, 60_000, 90_000, 100_000]))).toEqual([]);
    expect(coalesced(files('p', [Infinity, Infinity, Infinity, Infinity]))).toEqual([]);
  });
});
