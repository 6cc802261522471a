import { describe, expect, it } from 'vitest';
import { planRewrite, type SizedFile } from './compaction.js';

const KB = 1024;
const MB = 1024 * KB;
const policy = { fanout: 4, baseBytes: 1 * MB, maxBytes: 128 * MB };

function files(partition: string, sizes: number[], prefix = partition): SizedFile[] {
  return sizes.map((bytes, index) => ({ path: `${prefix}-${index}`, partition, bytes }));
}

/** The files coalesced, besides the affected ones. */
const filesToCoalesce = (
  sized: readonly SizedFile[],
  affected: ReadonlySet<string>,
  options = policy,
): string[] => planRewrite(sized, affected, options).coalesced;

describe('planRewrite', () => {
  it('coalesces a tier of a partition once it holds as many files as the fanout, not before', () => {
    expect(filesToCoalesce(files('p', [100 * KB, 200 * KB, 300 * KB]), new Set(), policy)).toEqual([]);
    expect(filesToCoalesce(files('p', [100 * KB, 200 * KB, 300 * KB, 1 * MB]), new Set(), policy)).toEqual([
      'p-0',
      'p-1',
      'p-2',
      'p-3',
    ]);
  });

  it('counts tiers apart: small files do not pull a larger tier into the rewrite', () => {
    const small = files('p', [10 * KB, 20 * KB, 30 * KB, 40 * KB], 'small');
    const large = files('p', [5 * MB, 6 * MB, 7 * MB], 'large');
    expect(filesToCoalesce([...small, ...large], new Set(), policy)).toEqual([
      'small-0',
      'small-1',
      'small-2',
      'small-3',
    ]);
  });

  it('counts partitions apart, and leaves out the files the merge rewrites anyway', () => {
    const a = files('a', [10 * KB, 20 * KB, 30 * KB, 40 * KB]);
    const b = files('b', [10 * KB, 20 * KB]);
    expect(filesToCoalesce([...a, ...b], new Set(['a-0']), policy)).toEqual([]);
    expect(filesToCoalesce([...a, ...b], new Set(['b-0']), policy)).toEqual(['a-0', 'a-1', 'a-2', 'a-3']);
  });

  it('groups the files to rewrite by tier, so a large affected file does not take the small ones in', () => {
    const small = files('p', [10 * KB, 20 * KB, 30 * KB, 40 * KB, 50 * KB], 'small');
    const large = files('p', [5 * MB], 'large');
    expect(planRewrite([...large, ...small], new Set(['large-0', 'small-0']), policy).groups).toEqual([
      ['small-0', 'small-1', 'small-2', 'small-3', 'small-4'],
      ['large-0'],
    ]);
  });

  it('never rewrites files of the target size or more', () => {
    expect(filesToCoalesce(files('p', [128 * MB, 130 * MB, 200 * MB, 300 * MB]), new Set(), policy)).toEqual(
      [],
    );
  });
});
