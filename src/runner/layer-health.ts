import type { ObjectInfo } from '../storage/object-store.js';
import { snapshotRows } from '../table/delta-table.js';
import type { LakeArea, LakeLayout } from '../table/lake-layout.js';

/** What one area of the lake holds. */
export interface LayerVolume {
  layer: LakeArea;
  objects: number;
  bytes: number;
  /** Rows in the current versions of the layer's Delta tables (null for landing, which holds files). */
  rows: number | null;
  /** Delta tables in the layer. */
  tables: number;
  /** ISO instant of the newest object, or null when the layer is empty. */
  newest: string | null;
  /** Hours between the newest object and `now`, or null. */
  ageHours: number | null;
}

export interface LayerHealth {
  layers: LayerVolume[];
  warnings: string[];
}

export interface LayerHealthThresholds {
  /** A layer whose newest object is older than this many hours is stale. */
  maxAgeHours: number;
}

const LAYERS: readonly LakeArea[] = ['landing', 'bronze', 'silver', 'gold'];
const HOUR = 3_600_000;

/**
 * The seed's layer checks: objects, bytes and freshness per layer, with warnings for an empty layer, for a
 * stale one, and for data stuck between layers (a layer fresher than the one it feeds).
 */
export async function checkLayerHealth(
  lake: LakeLayout,
  now: Date,
  thresholds: LayerHealthThresholds,
): Promise<LayerHealth> {
  const layers = await Promise.all(
    LAYERS.map(async (layer) => ({
      ...volume(layer, await lake.stores.store(layer).list(''), now),
      ...(layer === 'landing' ? { rows: null, tables: 0 } : await tableRows(lake, layer)),
    })),
  );
  const warnings: string[] = [];
  for (const [index, layer] of layers.entries()) {
    if (layer.objects === 0) {
      warnings.push(`${layer.layer} is empty`);
      continue;
    }
    if (layer.ageHours !== null && layer.ageHours > thresholds.maxAgeHours) {
      warnings.push(
        `${layer.layer} is stale: its newest object is ${layer.ageHours.toFixed(1)} h old (threshold ${thresholds.maxAgeHours} h)`,
      );
    }
    const next = layers[index + 1];
    if (next && next.objects === 0) warnings.push(`data is stuck in ${layer.layer}: ${next.layer} is empty`);
    else if (next?.newest && layer.newest && layer.newest > next.newest) {
      warnings.push(
        `${layer.layer} has data newer than ${next.layer}: a later layer has not been refreshed since`,
      );
    }
  }
  return { layers, warnings };
}

/** Rows of every Delta table directly under the layer, from the statistics of their current versions. */
async function tableRows(lake: LakeLayout, layer: LakeArea): Promise<{ rows: number; tables: number }> {
  let rows = 0;
  let tables = 0;
  for (const table of await lake.tablesIn(layer)) {
    const snapshot = await table.snapshot();
    if (!snapshot) continue;
    tables += 1;
    rows += snapshotRows(snapshot);
  }
  return { rows, tables };
}

function volume(layer: LakeArea, objects: ObjectInfo[], now: Date): Omit<LayerVolume, 'rows' | 'tables'> {
  let newest: Date | null = null;
  let bytes = 0;
  for (const object of objects) {
    bytes += object.size;
    if (!newest || object.lastModified > newest) newest = object.lastModified;
  }
  return {
    layer,
    objects: objects.length,
    bytes,
    newest: newest?.toISOString() ?? null,
    ageHours: newest ? (now.getTime() - newest.getTime()) / HOUR : null,
  };
}
