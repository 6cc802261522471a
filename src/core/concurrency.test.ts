import { describe, expect, it } from 'vitest';
import { mapConcurrently } from './concurrency.js';

describe('mapConcurrently', () => {
  it('keeps results in the order of the items and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapConcurrently([5, 1, 4, 2, 3], 2, async (value) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, value));
      running--;
      return value * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it('rejects with the first failure', async () => {
    await expect(
      mapConcurrently([1, 2], 4, async (value) => Promise.reject(new Error(`no ${value}`))),
    ).rejects.toThrow('no 1');
  });
});
