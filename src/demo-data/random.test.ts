import { describe, expect, it } from 'vitest';
import { Rng, hash32, patterned, seed32, spreadPattern, stratum, weighted } from './random.js';

describe('Rng', () => {
  it('replays the same sequence from the same state', () => {
    const a = new Rng(99);
    const b = new Rng(99);
    const draws = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(draws);
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('keeps weighted picks close to their weights', () => {
    const rng = new Rng(1);
    const pick = weighted([
      ['a', 3],
      ['b', 1],
    ] as const);
    const n = 20_000;
    const a = Array.from({ length: n }, () => pick(rng)).filter((x) => x === 'a').length;
    expect(a / n).toBeGreaterThan(0.73);
    expect(a / n).toBeLessThan(0.77);
  });
});

describe('seed32 and hash32', () => {
  it('tell apart seeds beyond 32 bits and negative seeds', () => {
    expect(seed32(1)).not.toBe(seed32(1 + 2 ** 32));
    expect(seed32(-1)).not.toBe(seed32(2 ** 32 - 1));
    expect(hash32(1, 2, 3)).not.toBe(hash32(1, 3, 2));
  });
});

describe('stratum', () => {
  it('fires exactly once in every block of the period', () => {
    const period = 37;
    for (let block = 0; block < 50; block++) {
      let hits = 0;
      for (let j = 0; j < period; j++) if (stratum(5, 9, block * period + j, period)) hits++;
      expect(hits).toBe(1);
    }
  });
});

describe('patterned', () => {
  it('cycles through every kind within one pattern length of blocks', () => {
    const pattern = spreadPattern([
      ['x', 3],
      ['y', 1],
      ['z', 1],
    ] as const);
    expect(pattern).toHaveLength(5);
    const seen = new Set<string>();
    for (let i = 0; i < 10 * pattern.length; i++) {
      const kind = patterned(3, 4, i, 10, pattern);
      if (kind !== undefined) seen.add(kind);
    }
    expect(seen).toEqual(new Set(['x', 'y', 'z']));
  });
});
