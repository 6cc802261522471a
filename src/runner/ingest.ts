import { createHash } from 'node:crypto';
import { CommitConflictError, ConfigError } from '../core/errors.js';
import type { SourceDefinition } from '../core/pipeline.js';
import { mapConcurrently } from '../core/concurrency.js';
import type { ObjectStore } from '../storage/object-store.js';
import { appendToManifest, readManifest, type ManifestEntry } from './landing-manifest.js';
import type { RunContext } from './run-context.js';

export interface IngestReport {
  landed: ManifestEntry[];
  /** Files already ingested (same source and checksum), with their current status. */
  skipped: { fileName: string; source: string; status: string }[];
  /** Files in the source that match no declared source: reported and left alone. */
  unmatched: string[];
  /**
   * Entries of the source skipped unread, with why: a symbolic link whose target is outside the source
   * location, missing, or a directory it is in.
   */
  refused: { fileName: string; reason: string }[];
}

/** `*` and `?` wildcards over a file name. */
export function matchesPattern(fileName: string, pattern: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${regex}$`).test(fileName);
}

function baseName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/**
 * Copies one source file to `target` in landing, byte for byte, and returns its SHA-256; undefined
 * when `claim(checksum)` says the bytes were already ingested (nothing is left in landing then).
 * Small files travel in memory (one GET, one PUT). A large one is copied by the server when source
 * and landing share one (the bytes never reach this process; the server gives their SHA-256), else
 * downloaded (hashed on the way) and uploaded from the local file.
 */
async function landFile(
  source: ObjectStore,
  key: string,
  size: number,
  landing: ObjectStore,
  target: string,
  claim: (checksum: string) => boolean,
): Promise<string | undefined> {
  if (size <= SMALL_FILE_BYTES) {
    const bytes = await source.get(key);
    const checksum = createHash('sha256').update(bytes).digest('hex');
    if (!claim(checksum)) return undefined;
    await landing.put(target, bytes);
    return checksum;
  }
  const copied = await landing.copyFrom(source, key, target);
  if (copied) {
    if (claim(copied.sha256)) return copied.sha256;
    await landing.delete([target]);
    return undefined;
  }
  const local = await source.localPathAndSha256(key);
  if (!claim(local.sha256)) return undefined;
  await landing.putFile(local.path, target);
  return local.sha256;
}

/** The directory of one landing in `<source>/<ingestion id>/<file>`: the run's UTC start, then 12 hex digits. */
export const INGESTION_ID = /^\d{8}T\d{6}Z-[0-9a-f]{12}$/;

/** Files landed at once: transfers overlap, and small files are bound by round trips, not bandwidth. */
const INGEST_CONCURRENCY = 16;
const SMALL_FILE_BYTES = 4 * 1024 * 1024;

/** Copies new source files, byte for byte, to landing and records them in the manifest. */
export async function ingest(context: RunContext): Promise<IngestReport> {
  const files = context.source;
  if (!files) {
    throw new ConfigError(
      `pipeline ${context.pipeline.name} declares sources but its run has no source location`,
      {
        hint: 'give it a source (the project file, or --source) and run it again',
      },
    );
  }
  const report: IngestReport = { landed: [], skipped: [], unmatched: [], refused: [] };
  const manifest = await readManifest(context);
  const known = new Map(manifest.files.map((entry) => [identityOf(entry), entry.status]));
  const stamp = context.startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const matched: { key: string; size: number; source: SourceDefinition }[] = [];
  const listing = await files.listChecked('');
  for (const { key, reason } of listing.refused) {
    report.refused.push({ fileName: key, reason });
    context.progress({ type: 'task-progress', task: 'ingest', message: `skipped ${key}: ${reason}` });
  }
  for (const object of listing.objects) {
    const fileName = baseName(object.key);
    const source = context.pipeline.sources.find((candidate) => matchesPattern(fileName, candidate.pattern));
    if (source) matched.push({ key: object.key, size: object.size, source });
    else report.unmatched.push(object.key);
  }
  const landed = await mapConcurrently(matched, INGEST_CONCURRENCY, async ({ key, size, source }) => {
    const fileName = baseName(key);
    // Named before the checksum is known (a server-side copy needs its target first), unique per run and file.
    const fileId = createHash('sha256').update(`${context.runId}\0${key}`).digest('hex').slice(0, 12);
    const landingKey = context.lake.landingKey(source.name, `${stamp}-${fileId}`, fileName);
    const checksum = await landFile(files, key, size, context.lake.landing(), landingKey, (sum) => {
      const identity = identityOf({ source: source.name, checksum: sum });
      const previous = known.get(identity);
      if (previous) {
        report.skipped.push({ fileName: key, source: source.name, status: previous });
        context.log(`${key}: already ingested (sha256 ${sum}, ${previous})`);
        return false;
      }
      // Claimed at once: the same bytes under two names in one run land once.
      known.set(identity, 'landed');
      context.progress({ type: 'task-progress', task: 'ingest', message: `landing ${key}` });
      return true;
    });
    if (checksum === undefined) return undefined;
    context.log(`landed ${key}: ${size} bytes, sha256 ${checksum}, as landing/${landingKey}`);
    const entry: ManifestEntry = {
      source: source.name,
      fileName,
      sourceKey: key,
      landingKey,
      checksum,
      bytes: size,
      status: 'landed',
      runId: context.runId,
      at: new Date().toISOString(),
      records: null,
      error: null,
    };
    return entry;
  });
  report.landed = landed.filter((entry): entry is ManifestEntry => entry !== undefined);
  await recordLanded(context, report, manifest.version);
  return report;
}

/** A file's identity in the manifest: the same bytes for the same source are one file. */
function identityOf(entry: Pick<ManifestEntry, 'source' | 'checksum'>): string {
  return `${entry.source}/${entry.checksum}`;
}

/** How often the manifest may move on under an ingest (runs of other metadata databases) before it gives up. */
const MANIFEST_RACE_ATTEMPTS = 5;

/**
 * Records the landed files in the manifest, on the version the ingest read: when another run (of another metadata
 * database, on the same lake) recorded files meanwhile, those it landed too are dropped from this run's landing
 * and report, and the rest is recorded on the new version. So landing never records two copies of one checksum.
 */
async function recordLanded(context: RunContext, report: IngestReport, readVersion: number): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await appendToManifest(context, report.landed, readVersion);
      return;
    } catch (error) {
      if (!(error instanceof CommitConflictError) || attempt >= MANIFEST_RACE_ATTEMPTS) throw error;
    }
    const manifest = await readManifest(context);
    const recorded = new Map(manifest.files.map((entry) => [identityOf(entry), entry.status]));
    const twins = report.landed.filter((entry) => recorded.has(identityOf(entry)));
    await context.lake.landing().delete(twins.map((entry) => entry.landingKey));
    report.landed = report.landed.filter((entry) => !recorded.has(identityOf(entry)));
    for (const twin of twins) {
      report.skipped.push({
        fileName: twin.sourceKey,
        source: twin.source,
        status: recorded.get(identityOf(twin)) ?? 'landed',
      });
    }
    context.log(
      `the landing manifest moved on to version ${manifest.version} while files were landed (another run on ` +
        `this lake): ${twins.length} file(s) it had recorded meanwhile are left to it, ${report.landed.length} recorded here`,
    );
    readVersion = manifest.version;
  }
}
