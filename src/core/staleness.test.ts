import { describe, expect, it } from 'vitest';
import { staleInputs } from './staleness.js';

const reads = new Map([
  ['silver.orders', ['bronze.orders']],
  ['gold.revenue', ['silver.orders', 'silver.customers']],
  ['gold.top', ['gold.revenue']],
]);

describe('stale tables', () => {
  it('are those a table they read has a newer commit than, with the inputs that are newer', () => {
    const lastCommit = new Map([
      ['bronze.orders', 100],
      ['silver.orders', 200],
      ['silver.customers', 350],
      ['gold.revenue', 300],
      ['gold.top', 400],
    ]);
    expect(staleInputs(lastCommit, reads)).toEqual(new Map([['gold.revenue', ['silver.customers']]]));
  });

  it('are none when every table was committed after what it reads, or at the same time', () => {
    const lastCommit = new Map([
      ['bronze.orders', 100],
      ['silver.orders', 100],
      ['silver.customers', 100],
      ['gold.revenue', 300],
      ['gold.top', 300],
    ]);
    expect(staleInputs(lastCommit, reads)).toEqual(new Map());
  });

  it('leave out tables that do not exist yet, and inputs that do not', () => {
    const lastCommit = new Map([
      ['silver.orders', 200],
      ['gold.top', 100],
    ]);
    expect(staleInputs(lastCommit, reads)).toEqual(new Map());
  });
});
