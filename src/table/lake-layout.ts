import path from 'node:path';
import type { TableId } from '../core/graph.js';
import type { Layer } from '../core/pipeline.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { joinKey, type ObjectStore } from '../storage/object-store.js';
import { DeltaTable } from './delta-table.js';

/** The parts of a lake, each its own store: a directory locally, a bucket (or a prefix) on S3. */
export type LakeArea = Layer | 'landing' | 'quarantine' | 'system';

export interface LakeStores {
  /** Where the lake is, for messages and summaries. */
  readonly location: string;
  store(area: LakeArea): ObjectStore;
}

export const LAKE_AREAS: readonly LakeArea[] = [
  'landing',
  'bronze',
  'silver',
  'gold',
  'quarantine',
  'system',
];

/** Directory (or key prefix) of each area in a one-root lake; `_medallion` holds medallion's bookkeeping. */
export const AREA_DIRECTORIES: Record<LakeArea, string> = {
  landing: 'landing',
  bronze: 'bronze',
  silver: 'silver',
  gold: 'gold',
  quarantine: 'quarantine',
  system: '_medallion',
};

/** Where the dedupe states are, in the system area. */
const WINNERS = 'winners';

export function localLake(dir: string): LakeStores {
  const stores = new Map<LakeArea, ObjectStore>();
  return {
    location: path.resolve(dir),
    store(area) {
      const existing = stores.get(area);
      if (existing) return existing;
      const created = new LocalDiskStore(path.join(dir, AREA_DIRECTORIES[area]));
      stores.set(area, created);
      return created;
    },
  };
}

/**
 * Where things live in a lake: tables at `<layer>/<table>/`, rejected records at
 * `quarantine/<layer>_<table>/`, source bytes at `landing/<source>/<ingestion>/<file>` with the
 * landing manifest beside them, run summaries in the system area.
 */
export class LakeLayout {
  constructor(readonly stores: LakeStores) {}

  get location(): string {
    return this.stores.location;
  }

  table(id: TableId): DeltaTable {
    return new DeltaTable(this.stores.store(id.layer), id.table);
  }

  /** The directories one level down in the area, each as a table (one without a Delta log has no snapshot). */
  async tablesIn(area: LakeArea): Promise<DeltaTable[]> {
    const store = this.stores.store(area);
    return (await store.listDelimited('')).prefixes.map(
      (prefix) => new DeltaTable(store, prefix.slice(0, -1)),
    );
  }

  quarantineId(id: TableId): TableId {
    return { layer: 'quarantine', table: `${id.layer}_${id.table}` };
  }

  quarantine(id: TableId): DeltaTable {
    return this.table(this.quarantineId(id));
  }

  /**
   * An incremental table's dedupe state: the record that ranks first per dedupe key, which the next increment's
   * records compete with. medallion's bookkeeping, so in the system area.
   */
  winners(id: TableId): DeltaTable {
    return new DeltaTable(this.system(), joinKey(WINNERS, `${id.layer}_${id.table}`));
  }

  /** Every dedupe state of the lake. */
  async winnersTables(): Promise<DeltaTable[]> {
    const store = this.system();
    return (await store.listDelimited(`${WINNERS}/`)).prefixes.map(
      (prefix) => new DeltaTable(store, prefix.slice(0, -1)),
    );
  }

  /** The landing manifest: one row per event (landed, loaded, rejected) of each source file. */
  manifest(): DeltaTable {
    return new DeltaTable(this.landing(), '_manifest');
  }

  landing(): ObjectStore {
    return this.stores.store('landing');
  }

  landingKey(source: string, ingestionId: string, fileName: string): string {
    return joinKey(source, ingestionId, fileName);
  }

  system(): ObjectStore {
    return this.stores.store('system');
  }

  runSummaryKey(runId: string): string {
    return joinKey('runs', `${runId}.json`);
  }
}
