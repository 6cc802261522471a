import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { SourceDefinition } from '../core/pipeline.js';
import { mapConcurrently } from '../core/concurrency.js';
import type { ObjectStore } from '../storage/object-store.js';
import { appendToManifest, currentFiles, type ManifestEntry } from './landing-manifest.js';
import type { RunContext } from './run-context.js';

export interface IngestReport {
  landed: ManifestEntry[];
  /** Files already ingested (same source and checksum), with their current status. */
  skipped: { fileName: string; source: string; status: string }[];
  /** Files in the source that match no declared source: reported and left alone. */
  unmatched: string[];
}

/** `*` and `?` wildcards over a file name. */
export function matchesPattern(fileName: string, pattern: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${regex}$`).test(fileName);
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function baseName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/**
 * A source file's checksum, and how to copy it: small files travel in memory (one GET, one PUT),
 * large ones through a local file, streamed.
 */
async function fetchSourceFile(
  source: ObjectStore,
  key: string,
  size: number,
): Promise<{ checksum: string; copyTo(store: ObjectStore, target: string): Promise<void> }> {
  if (size <= SMALL_FILE_BYTES) {
    const bytes = await source.get(key);
    return {
      checksum: createHash('sha256').update(bytes).digest('hex'),
      copyTo: (store, target) => store.put(target, bytes),
    };
  }
  const localPath = await source.localPath(key);
  return {
    checksum: await sha256File(localPath),
    copyTo: (store, target) => store.putFile(localPath, target),
  };
}

/** Files landed at once: transfers overlap, and small files are bound by round trips, not bandwidth. */
const INGEST_CONCURRENCY = 16;
const SMALL_FILE_BYTES = 4 * 1024 * 1024;

/** Copies new source files, byte for byte, to landing and records them in the manifest. */
export async function ingest(context: RunContext): Promise<IngestReport> {
  const report: IngestReport = { landed: [], skipped: [], unmatched: [] };
  const known = new Map(
    (await currentFiles(context)).map((entry) => [`${entry.source}/${entry.checksum}`, entry.status]),
  );
  const stamp = context.startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const matched: { key: string; size: number; source: SourceDefinition }[] = [];
  for (const object of await context.source.list('')) {
    const fileName = baseName(object.key);
    const source = context.pipeline.sources.find((candidate) => matchesPattern(fileName, candidate.pattern));
    if (source) matched.push({ key: object.key, size: object.size, source });
    else report.unmatched.push(object.key);
  }
  const landed = await mapConcurrently(matched, INGEST_CONCURRENCY, async ({ key, size, source }) => {
    const file = await fetchSourceFile(context.source, key, size);
    const checksum = file.checksum;
    const identity = `${source.name}/${checksum}`;
    const previous = known.get(identity);
    if (previous) {
      report.skipped.push({ fileName: key, source: source.name, status: previous });
      return undefined;
    }
    // Claimed before the upload: the same bytes under two names in one run land once.
    known.set(identity, 'landed');
    context.progress({ type: 'task-progress', task: 'ingest', message: `landing ${key}` });
    const fileName = baseName(key);
    const landingKey = context.lake.landingKey(source.name, `${stamp}-${checksum.slice(0, 12)}`, fileName);
    await file.copyTo(context.lake.landing(), landingKey);
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
  await appendToManifest(context, report.landed);
  return report;
}
