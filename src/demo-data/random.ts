/**
 * Seeded randomness. Every record is generated from a hash of (seed, salt, index) instead of one
 * shared stream, so any record can be regenerated on its own (republished contracts, SIRETs of
 * establishment k) and files never depend on each other's generation order.
 */

function fmix32(input: number): number {
  let h = input | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Folds any safe-integer seed (negative or above 2^32 included) into 32 bits. */
export function seed32(seed: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
  return fmix32(lo ^ fmix32(hi + 0x5bd1e995));
}

/** A well-mixed 32-bit hash of three integers: the seed, a per-purpose salt and an index. */
export function hash32(seed: number, salt: number, index: number): number {
  const a = fmix32(seed ^ Math.imul(salt + 1, 0x9e3779b9));
  return fmix32(a ^ Math.imul(index + 0x632be5ab, 0x27d4eb2f));
}

/** hash32 mapped to [0, 1). */
export function unit(seed: number, salt: number, index: number): number {
  return hash32(seed, salt, index) / 0x1_0000_0000;
}

/**
 * True for exactly one index in each block of `period` consecutive indices, at a seeded position.
 * Rare kinds of mess use this instead of a coin flip so that a small sample is guaranteed to hold
 * them and their count stays proportional to the size.
 */
export function stratum(seed: number, salt: number, index: number, period: number): boolean {
  const block = Math.floor(index / period);
  return index - block * period === hash32(seed, salt, block) % period;
}

/**
 * Like `stratum`, but the event of each block is one of several mutually exclusive kinds, taken in
 * turn from `pattern` (repeat a kind to make it more frequent). Kinds that would hide each other
 * (no titulaires vs. a VAT-number titulaire) can then never collide, and any run of
 * `pattern.length` blocks holds every kind.
 */
export function patterned<K>(
  seed: number,
  salt: number,
  index: number,
  period: number,
  pattern: readonly K[],
): K | undefined {
  if (!stratum(seed, salt, index, period)) return undefined;
  const block = Math.floor(index / period);
  return at(pattern, (block + hash32(seed, salt, -1)) % pattern.length);
}

/** Repeats each kind `count` times, interleaved so repeats of a kind are spread over the cycle. */
export function spreadPattern<K>(counts: readonly (readonly [K, number])[]): K[] {
  const total = counts.reduce((sum, [, n]) => sum + n, 0);
  const slots: { kind: K; at: number }[] = [];
  for (const [kind, n] of counts) for (let j = 0; j < n; j++) slots.push({ kind, at: (j + 0.5) / n });
  const out = slots.sort((a, b) => a.at - b.at).map((s) => s.kind);
  if (out.length !== total) throw new Error('spreadPattern: count mismatch');
  return out;
}

/** mulberry32: tiny and fast, plenty for sample data. */
export class Rng {
  private state: number;

  constructor(state: number) {
    this.state = state >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return at(items, this.int(items.length));
  }

  /** Digits as text, leading zeros kept. */
  digits(count: number): string {
    let out = '';
    for (let i = 0; i < count; i++) out += String(this.int(10));
    return out;
  }
}

/** Indexing that satisfies noUncheckedIndexedAccess without sprinkling `!` everywhere. */
export function at<T>(items: readonly T[], index: number): T {
  const value = items[index];
  if (value === undefined) throw new RangeError(`index ${index} out of range (length ${items.length})`);
  return value;
}

export type Weighted<T> = (rng: Rng) => T;

/** Builds a sampler from [value, weight] pairs; weights need not sum to 1. */
export function weighted<T>(entries: readonly (readonly [T, number])[]): Weighted<T> {
  const values = entries.map(([v]) => v);
  const cumulative: number[] = [];
  let total = 0;
  for (const [, w] of entries) cumulative.push((total += w));
  return (rng) => {
    const x = rng.next() * total;
    for (let i = 0; i < cumulative.length; i++) if (x < at(cumulative, i)) return at(values, i);
    return at(values, values.length - 1);
  };
}
