import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';

interface Entry {
  size: number;
  /** Larger is more recent; starts from the file's mtime so the order survives restarts. */
  lastUsed: number;
}

/**
 * A bounded local directory of downloaded objects, for engines (DuckDB) that read local files.
 * Files are content-addressed (object identity + ETag), so a changed object gets a new file and a
 * cached file never goes stale. Over `maxBytes`, the least recently used files are deleted.
 *
 * Stores sharing a directory in one process share one index (see `ContentCache.at`), so the cap holds
 * across them; the cap is the smallest any of them asked for.
 */
export class ContentCache {
  private static readonly byDir = new Map<string, ContentCache>();

  static at(dir: string, maxBytes: number): ContentCache {
    const resolved = path.resolve(dir);
    let cache = ContentCache.byDir.get(resolved);
    if (!cache) {
      cache = new ContentCache(resolved, maxBytes);
      ContentCache.byDir.set(resolved, cache);
    } else if (maxBytes < cache.maxBytes) {
      cache.maxBytes = maxBytes;
    }
    return cache;
  }

  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<string>>();
  private loaded: Promise<void> | undefined;
  private clock = 0;
  private totalBytes = 0;

  private constructor(
    readonly dir: string,
    private maxBytes: number,
  ) {
    if (!Number.isFinite(maxBytes) || maxBytes <= 0) {
      throw new RangeError(`cache size cap must be a positive number of bytes, got ${maxBytes}`);
    }
  }

  get usedBytes(): number {
    return this.totalBytes;
  }

  /** The cache file name for one version of one object; keeps the key's file name so extensions still tell formats. */
  fileFor(identity: string, version: string, key: string): string {
    const digest = createHash('sha256')
      .update(identity)
      .update('\0')
      .update(version)
      .digest('hex')
      .slice(0, 32);
    const base = (key.split('/').pop() ?? '').replace(/[^A-Za-z0-9._-]/g, '_').slice(-100);
    return path.join(this.dir, base ? `${digest}-${base}` : digest);
  }

  /**
   * The path of `file` in the cache, downloading it with `download(tempPath)` first when absent.
   * Concurrent calls for one file share one download.
   */
  async obtain(file: string, size: number, download: (tempPath: string) => Promise<void>): Promise<string> {
    await (this.loaded ??= this.load());
    const pending = this.inFlight.get(file);
    if (pending) return pending;
    const job = this.obtainOnce(file, size, download).finally(() => this.inFlight.delete(file));
    this.inFlight.set(file, job);
    return job;
  }

  private async obtainOnce(
    file: string,
    size: number,
    download: (tempPath: string) => Promise<void>,
  ): Promise<string> {
    try {
      const info = await stat(file);
      if (info.size === size) {
        this.remember(file, size);
        const now = new Date();
        await utimes(file, now, now).catch(() => undefined);
        return file;
      }
    } catch {
      // absent (or evicted by another process): download below
    }
    await mkdir(this.dir, { recursive: true });
    // A private temp name, renamed into place when complete: a reader never sees half a file.
    const temp = path.join(this.dir, `.tmp-${randomUUID()}`);
    try {
      await download(temp);
      const written = (await stat(temp)).size;
      if (written !== size) {
        throw new Error(`downloaded ${written} bytes for ${path.basename(file)}, expected ${size}`);
      }
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    this.remember(file, size);
    await this.evict(file);
    return file;
  }

  private remember(file: string, size: number): void {
    const previous = this.entries.get(file);
    if (previous) this.totalBytes -= previous.size;
    this.entries.set(file, { size, lastUsed: ++this.clock });
    this.totalBytes += size;
  }

  /** Deletes least recently used files until the cache fits; never `keep` nor a file being fetched. */
  private async evict(keep: string): Promise<void> {
    if (this.totalBytes <= this.maxBytes) return;
    const candidates = [...this.entries]
      .filter(([file]) => file !== keep && !this.inFlight.has(file))
      .sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
    const doomed: string[] = [];
    for (const [file, entry] of candidates) {
      if (this.totalBytes <= this.maxBytes) break;
      this.entries.delete(file);
      this.totalBytes -= entry.size;
      doomed.push(file);
    }
    // On POSIX a reader that already opened a deleted file keeps reading it.
    await Promise.all(doomed.map((file) => rm(file, { force: true })));
  }

  /** Indexes files left by earlier processes, oldest first by mtime, and trims to the cap. */
  private async load(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const found: { file: string; size: number; mtime: number }[] = [];
    for (const name of names) {
      const file = path.join(this.dir, name);
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) continue;
      if (name.startsWith('.tmp-')) {
        // Another process may be writing it; only clear leftovers of crashed ones.
        if (Date.now() - info.mtimeMs > 3_600_000) await rm(file, { force: true });
        continue;
      }
      found.push({ file, size: info.size, mtime: info.mtimeMs });
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const { file, size } of found) this.remember(file, size);
    await this.evict('');
  }
}
