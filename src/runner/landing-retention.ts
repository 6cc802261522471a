import type { RetentionPolicy } from '../core/retention.js';
import type { ObjectInfo } from '../storage/object-store.js';
import type { LakeLayout } from '../table/lake-layout.js';
import { LANDED_FILE_TXN } from './bronze.js';
import { INGESTION_ID } from './ingest.js';
import {
  appendToManifest,
  currentFiles,
  type ManifestAccess,
  type ManifestEntry,
} from './landing-manifest.js';
import type { RunContext } from './run-context.js';

/** What landing retention deletes (or would, in a dry run). */
export interface LandingRetention {
  /** Landed copies of files bronze has loaded, older than the landing retention. */
  expired: ObjectInfo[];
  /** Copies no manifest entry names (an ingest that crashed before recording them), older than `leftovers`. */
  unrecorded: ObjectInfo[];
}

/**
 * Finds, and unless `dryRun` deletes, the landing copies the lake no longer needs:
 * - the copy of a file whose latest manifest event is `loaded` — and whose append a bronze table still records —
 *   once older than the landing retention (a file bronze has not read, or rejected, is never touched). The
 *   manifest gets an `expired` event for it first, so the file stays known and is never landed again;
 * - a copy under an ingestion prefix that no manifest entry names, once older than `leftovers`: an ingest
 *   crashed between copying it and recording it, and the next ingest landed the file again under a new prefix.
 * Nothing is deleted when the lake has no manifest: then no copy is known to be loaded or unrecorded.
 */
export async function landingRetention(
  access: ManifestAccess & Pick<RunContext, 'runId'>,
  policy: RetentionPolicy,
  options: { now: Date; dryRun: boolean },
): Promise<LandingRetention> {
  const found: LandingRetention = { expired: [], unrecorded: [] };
  if (!(await access.lake.manifest().exists())) return found;
  const copies = (await access.lake.landing().list('')).filter((object) => isLandedCopy(object.key));
  const files = new Map((await currentFiles(access)).map((entry) => [entry.landingKey, entry]));
  const loaded = await bronzeLoads(access.lake);
  const now = options.now.getTime();
  const toExpire: ManifestEntry[] = [];
  for (const copy of copies) {
    const entry = files.get(copy.key);
    const age = now - copy.lastModified.getTime();
    if (!entry) {
      if (age > policy.leftovers.ms) found.unrecorded.push(copy);
    } else if (policy.landing && age > policy.landing.ms && isExpirable(entry, loaded)) {
      found.expired.push(copy);
      if (entry.status === 'loaded') toExpire.push(entry);
    }
  }
  if (options.dryRun) return found;
  const at = new Date().toISOString();
  await appendToManifest(
    access,
    toExpire.map((entry) => ({ ...entry, status: 'expired', runId: access.runId, at, error: null })),
  );
  await access.lake.landing().delete([...found.expired, ...found.unrecorded].map((copy) => copy.key));
  return found;
}

/** `<source>/<ingestion id>/<file>`: a copy ingest made (anything else in landing is left alone). */
function isLandedCopy(key: string): boolean {
  const segments = key.split('/');
  return segments.length === 3 && INGESTION_ID.test(segments[1] ?? '');
}

/**
 * Loaded, with the bronze append still recorded by a bronze table (a table dropped and rebuilt since no longer
 * holds those rows: its landed copy is what is left of them), or already recorded as expired (a pass that
 * stopped between recording and deleting).
 */
function isExpirable(entry: ManifestEntry, loaded: ReadonlySet<string>): boolean {
  return entry.status === 'expired' || (entry.status === 'loaded' && loaded.has(entry.checksum));
}

/** Checksums of the landed files whose rows a bronze table of the lake records having appended. */
async function bronzeLoads(lake: LakeLayout): Promise<Set<string>> {
  const checksums = new Set<string>();
  for (const table of await lake.tablesIn('bronze')) {
    const snapshot = await table.snapshot();
    for (const appId of snapshot?.txns.keys() ?? []) {
      if (appId.startsWith(LANDED_FILE_TXN)) checksums.add(appId.slice(LANDED_FILE_TXN.length));
    }
  }
  return checksums;
}
