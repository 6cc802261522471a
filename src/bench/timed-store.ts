/**
 * Where an ingest spends its time: object stores wrapped so that every call of every method is
 * timed, and tallied under a name such as `source.localPath` or `landing.putFile`.
 */
import type { ObjectStore } from '../storage/object-store.js';
import type { LakeArea, LakeStores } from '../table/lake-layout.js';
import type { OperationTiming } from './measure.js';

export class OperationTally {
  private readonly byName = new Map<string, OperationTiming>();
  private origin = performance.now();

  /** Forgets what was recorded and measures from now on. */
  reset(): void {
    this.byName.clear();
    this.origin = performance.now();
  }

  record(name: string, startedAt: number, endedAt: number): void {
    const start = startedAt - this.origin;
    const end = endedAt - this.origin;
    const entry = this.byName.get(name);
    if (!entry) {
      this.byName.set(name, { name, calls: 1, busyMs: end - start, firstStartMs: start, lastEndMs: end });
      return;
    }
    entry.calls += 1;
    entry.busyMs += end - start;
    entry.firstStartMs = Math.min(entry.firstStartMs, start);
    entry.lastEndMs = Math.max(entry.lastEndMs, end);
  }

  operations(): OperationTiming[] {
    return [...this.byName.values()]
      .map((entry) => ({
        ...entry,
        busyMs: Math.round(entry.busyMs),
        firstStartMs: Math.round(entry.firstStartMs),
        lastEndMs: Math.round(entry.lastEndMs),
      }))
      .sort((a, b) => a.firstStartMs - b.firstStartMs);
  }
}

/** The key a store method works on: the second argument of putFile, else the first. */
function keyOf(method: string, args: unknown[]): string | undefined {
  const key = method === 'putFile' ? args[1] : args[0];
  return typeof key === 'string' ? key : undefined;
}

/**
 * `store`, with each method call that returns a promise timed until it settles. Calls the store
 * makes on itself are not counted again. `name(method, key)` names the tally entry.
 */
export function timedStore<T extends object>(
  store: T,
  tally: OperationTally,
  name: (method: string, key: string | undefined) => string,
): T {
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]): unknown => {
        const started = performance.now();
        const result: unknown = Reflect.apply(value, target, args);
        if (!(result instanceof Promise)) return result;
        return result.finally(() =>
          tally.record(name(property, keyOf(property, args)), started, performance.now()),
        );
      };
    },
  });
}

/** The source store, timed as `source.<method>`. */
export function timedSource(store: ObjectStore, tally: OperationTally): ObjectStore {
  return timedStore(store, tally, (method) => `source.${method}`);
}

/**
 * The lake's stores, timed as `<area>.<method>`; calls on the landing manifest (`_manifest/…` in
 * the landing area) are `manifest.<method>`.
 */
export function timedLake(lake: LakeStores, tally: OperationTally): LakeStores {
  const stores = new Map<LakeArea, ObjectStore>();
  return {
    location: lake.location,
    store(area) {
      const existing = stores.get(area);
      if (existing) return existing;
      const wrapped = timedStore(lake.store(area), tally, (method, key) =>
        area === 'landing' && key?.startsWith('_manifest') ? `manifest.${method}` : `${area}.${method}`,
      );
      stores.set(area, wrapped);
      return wrapped;
    },
  };
}
