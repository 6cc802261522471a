import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { SourceDefinition } from '../core/pipeline.js';
import { mapConcurrently } from '../core/concurrency.js';
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

/** Files landed at once: transfers overlap, and small files are bound by round trips, not bandwidth. */
const INGEST_CONCURRENCY = 16;

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
    const localPath = await context.source.localPath(key);
    const checksum = await sha256File(localPath);
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
    await context.lake.landing().putFile(localPath, landingKey);
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
