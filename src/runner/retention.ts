import os from 'node:os';
import type { RetentionPolicy } from '../core/retention.js';
import { withScratchEngine } from '../engine/duckdb/scratch-engine.js';
import type { ObjectInfo } from '../storage/object-store.js';
import { LAKE_AREAS, type LakeArea, type LakeLayout } from '../table/lake-layout.js';
import { vacuumLake, type TableVacuumResult } from '../table/vacuum.js';
import { landingRetention, type LandingRetention } from './landing-retention.js';

export interface RetentionOptions {
  now: Date;
  /** Find what would be deleted, delete nothing. */
  dryRun?: boolean;
  /** Recorded with the manifest's `expired` events: the run (or command) that deleted the copies. */
  runId: string;
  /** Where its DuckDB (which reads the landing manifest) works; default: the OS temp dir. */
  scratchDir?: string;
}

/** What retention deleted in one area of the lake (or would have, in a dry run). */
export interface LayerRetention {
  layer: LakeArea;
  files: number;
  bytes: number;
  /** Data files no retained version needs: old versions' and those of tries that crashed before committing. */
  dataFiles: number;
  /** Temp files of local writes a killed process left. */
  tempFiles: number;
  /** Landing only: loaded files' landed copies past the landing retention. */
  landedCopies: number;
  /** Landing only: copies no manifest entry names (an ingest that crashed before recording them). */
  unrecordedCopies: number;
}

export interface RetentionReport {
  dryRun: boolean;
  /** The durations applied, as declared (landing null: landed copies are kept). */
  policy: { landing: string | null; versions: string; quarantine: string; leftovers: string };
  /** Every area, in the lake's order. */
  perLayer: LayerRetention[];
  files: number;
  bytes: number;
}

/** The report, and the store keys it counts per area (a dry run's listing; too many to keep with a try). */
export interface RetentionResult {
  report: RetentionReport;
  deleted: { layer: LakeArea; keys: string[] }[];
}

/**
 * Applies the retention policy to the lake: landing copies (runner/landing-retention.ts), then every Delta table
 * through vacuum (table versions, quarantine, crashed tries' data and temp files). Never deletes a file a version
 * within its window needs, nor one written more recently than `leftovers` (a writer may be about to commit it);
 * the Delta logs are kept, so every version's history stays listable.
 */
export async function applyRetention(
  lake: LakeLayout,
  policy: RetentionPolicy,
  options: RetentionOptions,
): Promise<RetentionResult> {
  const dryRun = options.dryRun ?? false;
  const landing = await withScratchEngine(options.scratchDir ?? os.tmpdir(), 'retention', (engine) =>
    landingRetention({ lake, ingestEngine: engine, runId: options.runId }, policy, {
      now: options.now,
      dryRun,
    }),
  );
  const tables = await vacuumLake(lake, {
    now: options.now,
    retainMs: policy.versions.ms,
    retainMsByArea: { quarantine: policy.quarantine.ms },
    safetyMs: policy.leftovers.ms,
    dryRun,
  });
  const areas = LAKE_AREAS.map((layer) => layerRetention(layer, tables, landing));
  const layers = areas.map((area) => area.report);
  const report = {
    dryRun,
    policy: {
      landing: policy.landing?.text ?? null,
      versions: policy.versions.text,
      quarantine: policy.quarantine.text,
      leftovers: policy.leftovers.text,
    },
    perLayer: layers,
    files: sum(layers.map((layer) => layer.files)),
    bytes: sum(layers.map((layer) => layer.bytes)),
  };
  return { report, deleted: areas.map((area) => ({ layer: area.report.layer, keys: area.keys })) };
}

function layerRetention(
  layer: LakeArea,
  tables: readonly TableVacuumResult[],
  landing: LandingRetention,
): { report: LayerRetention; keys: string[] } {
  const vacuumed = tables.filter((table) => table.area === layer);
  const copies = layer === 'landing' ? landing : { expired: [], unrecorded: [] };
  const tempFiles = sum(vacuumed.map((table) => table.temporary.length));
  const keys = [
    ...vacuumed.flatMap((table) => table.deleted),
    ...[...copies.expired, ...copies.unrecorded].map((copy) => copy.key),
  ];
  const report = {
    layer,
    files: keys.length,
    bytes: sum(vacuumed.map((table) => table.bytes)) + size(copies.expired) + size(copies.unrecorded),
    dataFiles: sum(vacuumed.map((table) => table.deleted.length)) - tempFiles,
    tempFiles,
    landedCopies: copies.expired.length,
    unrecordedCopies: copies.unrecorded.length,
  };
  return { report, keys: keys.sort() };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function size(objects: readonly ObjectInfo[]): number {
  return sum(objects.map((object) => object.size));
}

/** The policy applied, in one line: `retention: landing 30d, versions 7d, quarantine 7d, leftovers 1d`. */
export function describePolicy({
  landing,
  versions,
  quarantine,
  leftovers,
}: RetentionReport['policy']): string {
  return `retention: landing ${landing ?? 'kept'}, versions ${versions}, quarantine ${quarantine}, leftovers ${leftovers}`;
}

/** The policy, one log line per area that lost files, then the total: what a retention try's log says. */
export function describeRetention(report: RetentionReport): string[] {
  const verb = report.dryRun ? 'would delete' : 'deleted';
  const lines = [describePolicy(report.policy)];
  for (const layer of report.perLayer) {
    if (layer.files === 0) continue;
    const kinds = [
      [layer.dataFiles, 'data file(s) no retained version needs'],
      [layer.tempFiles, 'temp file(s) of unfinished writes'],
      [layer.landedCopies, 'landed copy(ies) of loaded files'],
      [layer.unrecordedCopies, 'landed copy(ies) no manifest entry names'],
    ] as const;
    const detail = kinds.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`);
    lines.push(`${layer.layer}: ${verb} ${layer.files} file(s), ${layer.bytes} bytes (${detail.join(', ')})`);
  }
  lines.push(`${verb} ${report.files} file(s), ${report.bytes} bytes in all`);
  return lines;
}
