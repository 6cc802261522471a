import type { TableId } from '../core/graph.js';
import { joinKey, type ObjectStore } from '../storage/object-store.js';
import { DeltaTable } from './delta-table.js';

/**
 * Where things live in a lake: `<layer>/<table>/` for tables, `quarantine/<layer>_<table>/` for
 * rejected records, `landing/<source>/<ingestion>/<file>` for source bytes, and
 * `_medallion/` for medallion's own bookkeeping.
 */
export class LakeLayout {
  constructor(readonly store: ObjectStore) {}

  tableRoot(id: TableId): string {
    return joinKey(id.layer, id.table);
  }

  table(id: TableId): DeltaTable {
    return new DeltaTable(this.store, this.tableRoot(id));
  }

  quarantineId(id: TableId): TableId {
    return { layer: 'quarantine', table: `${id.layer}_${id.table}` };
  }

  quarantine(id: TableId): DeltaTable {
    return this.table(this.quarantineId(id));
  }

  /** The landing manifest: one row per event (landed, loaded, rejected) of each source file. */
  manifest(): DeltaTable {
    return new DeltaTable(this.store, 'landing/_manifest');
  }

  landingKey(source: string, ingestionId: string, fileName: string): string {
    return joinKey('landing', source, ingestionId, fileName);
  }

  runSummaryKey(runId: string): string {
    return joinKey('_medallion', 'runs', `${runId}.json`);
  }
}
