/**
 * What the lake's use cases (src/app/tables.ts, src/app/lake-objects.ts) read with: each lake opened once, and one
 * DuckDB database whose sessions read table versions, under a scratch directory of its own (spill files, files
 * being downloaded), made when first needed and removed by `close`.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDbEngine, type EngineOptions } from '../engine/duckdb/engine.js';
import { QuerySandbox } from '../engine/duckdb/sandbox.js';
import { openLake, storeSettings, type ConnectionResolver } from '../project/locations.js';
import type { Project } from '../project/project.js';
import { LakeLayout, type LakeStores } from '../table/lake-layout.js';

export interface LakeReaderOptions {
  /** Opens a lake from its location, as runs record it (`openLake` with the process's settings). */
  openLake(location: string): Promise<LakeStores>;
  /** Under which the reader makes its scratch directory. */
  scratchBase: string;
  memoryLimit?: string;
  threads?: number;
}

export class LakeReader {
  private readonly lakes = new Map<string, Promise<LakeLayout>>();
  private engine: Promise<DuckDbEngine> | undefined;
  private scratch: Promise<string> | undefined;

  constructor(private readonly options: LakeReaderOptions) {}

  /** The lake at `location`, opened once (a failed opening is tried again next time). */
  lake(location: string): Promise<LakeLayout> {
    let opened = this.lakes.get(location);
    if (!opened) {
      opened = this.options.openLake(location).then((stores) => new LakeLayout(stores));
      opened.catch(() => this.lakes.delete(location));
      this.lakes.set(location, opened);
    }
    return opened;
  }

  /** Runs `work` on a DuckDB session of its own: its views are gone when it ends. */
  async session<T>(work: (session: DuckDbEngine) => Promise<T>): Promise<T> {
    this.engine ??= this.scratchDir().then((scratchDir) =>
      DuckDbEngine.create(this.engineOptions(scratchDir)),
    );
    const session = await (await this.engine).connect();
    try {
      return await work(session);
    } finally {
      session.close();
    }
  }

  /** A database of its own for SQL people write, under a scratch directory of its own; `close` it when done. */
  async sandbox(): Promise<QuerySandbox> {
    return QuerySandbox.create(this.engineOptions(await this.scratchFile('')));
  }

  private engineOptions(scratchDir: string): EngineOptions {
    return {
      scratchDir,
      ...(this.options.memoryLimit && { memoryLimit: this.options.memoryLimit }),
      ...(this.options.threads && { threads: this.options.threads }),
    };
  }

  /** A path in the scratch directory no one else uses, ending with `suffix`. */
  async scratchFile(suffix: string): Promise<string> {
    return path.join(await this.scratchDir(), `${randomUUID()}${suffix}`);
  }

  private scratchDir(): Promise<string> {
    const base = this.options.scratchBase;
    this.scratch ??= mkdir(base, { recursive: true }).then(() =>
      mkdtemp(path.join(base, 'medallion-lake-reader-')),
    );
    return this.scratch;
  }

  async close(): Promise<void> {
    const [engine, scratch] = [this.engine, this.scratch];
    this.engine = undefined;
    this.scratch = undefined;
    if (engine) (await engine).close();
    if (scratch) await rm(await scratch, { recursive: true, force: true });
  }
}

/**
 * The reader of a project's lakes (`serve`, `medallion tables`): lakes opened with the environment's S3 settings
 * and these named connections, its DuckDB sized and placed as the project's engine settings say.
 */
export function projectLakeReader(project: Project, connections: ConnectionResolver): LakeReader {
  const engine = project.engine();
  const settings = storeSettings(process.env, connections);
  return new LakeReader({
    openLake: (location) => openLake(location, settings),
    scratchBase: engine.scratchDir ?? os.tmpdir(),
    ...(engine.memoryLimit && { memoryLimit: engine.memoryLimit }),
    ...(engine.threads && { threads: engine.threads }),
  });
}
