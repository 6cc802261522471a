/**
 * What a command works with once the project file (if any), the environment and its flags are put together:
 * which metadata database, which pipelines, each pipeline's source and lake, the engine's settings, alerts. A flag
 * overrides one value for one command; then MEDALLION_DB (for the database); then the project file; then the
 * defaults. Relative paths are relative to the project file when they come from it, to the working directory when
 * they come from a flag.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { EngineKind, PipelineDefinition } from '../core/pipeline.js';
import { mergeRetention, type RetentionSettings } from '../core/retention.js';
import type { RunEngine, RunLocations } from '../metadata/metadata-store.js';
import { findProjectFile, loadProjectFile, type ProjectFile } from './project-file.js';
import { loadPipelineModule, SHIPPED_PIPELINES, shippedPipeline } from './pipelines.js';

export interface ProjectOptions {
  /** --config FILE; else MEDALLION_CONFIG; else the nearest project file up from `cwd`. */
  config?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** The flags that name locations, for one command. */
export interface LocationFlags {
  source?: string;
  lake?: string;
  /** `--engine`: the engine of this run's silver and gold tables. */
  engine?: EngineKind;
}

export interface EngineSettings {
  memoryLimit?: string;
  threads?: number;
  scratchDir?: string;
}

/** A configured pipeline: its definition and the entry (if any) that declared it. */
interface Declared {
  name: string;
  load(): Promise<PipelineDefinition>;
}

export class Project {
  private readonly cwd: string;
  private readonly env: NodeJS.ProcessEnv;
  private loaded: Promise<PipelineDefinition[]> | undefined;

  private constructor(
    /** The project file, when there is one. */
    readonly file: ProjectFile | undefined,
    options: ProjectOptions,
  ) {
    this.cwd = path.resolve(options.cwd ?? process.cwd());
    this.env = options.env ?? process.env;
  }

  static async open(options: ProjectOptions = {}): Promise<Project> {
    const cwd = options.cwd ?? process.cwd();
    const env = options.env ?? process.env;
    const named = options.config ?? (env.MEDALLION_CONFIG || undefined);
    const file = named ? path.resolve(cwd, named) : findProjectFile(cwd);
    return new Project(file ? await loadProjectFile(file) : undefined, { ...options, cwd, env });
  }

  /** A lake given as a flag, made absolute (or an s3:// URL as given). */
  lakeFromFlag(location: string): string {
    return this.fromFlag(location);
  }

  /** Where a location from a flag (relative to the working directory) or from the file points. */
  private fromFlag(location: string): string {
    return absoluteLocation(location, this.cwd);
  }

  private fromFile(location: string): string {
    return absoluteLocation(location, this.file?.dir ?? this.cwd);
  }

  /**
   * The metadata database: --db, MEDALLION_DB, the project file's `database` (default `.medallion/metadata.db`
   * beside it), else one next to the lake (without a project file, each lake keeps its own history). `lake` is
   * the lake the command works on, if it has one.
   */
  databaseUrl(flag: string | undefined, lake?: string): string {
    if (flag) return flag;
    if (this.env.MEDALLION_DB) return this.env.MEDALLION_DB;
    if (this.file) {
      return sqliteRelativeTo(this.file.content.database ?? 'sqlite:.medallion/metadata.db', this.file.dir);
    }
    if (lake) return databaseNextTo(lake, this.env);
    throw new ConfigError('no metadata database is given', {
      context: { field: '--db' },
      hint:
        'run inside a project (`medallion init`, or a medallion.config.json naming `database`), pass --db URL or ' +
        '--lake LAKE (its database), or set MEDALLION_DB',
    });
  }

  /** The pipelines of the project (default: the shipped ones), or those the refs name (names or module files). */
  async pipelines(refs: readonly string[] = []): Promise<PipelineDefinition[]> {
    if (refs.length === 0) return this.all();
    return Promise.all(refs.map((ref) => this.pipeline(ref)));
  }

  /**
   * One pipeline: the one `ref` names (a name, or a module file), else the project's only pipeline with sources (the
   * shipped medallion_data_pipeline without a project file).
   */
  async pipeline(ref?: string): Promise<PipelineDefinition> {
    if (ref !== undefined && isModulePath(ref)) return loadPipelineModule(this.fromFlag(ref));
    const all = await this.all();
    if (ref !== undefined) {
      const found = all.find((pipeline) => pipeline.name === ref);
      if (found) return found;
      throw new ConfigError(`no pipeline named ${ref}`, {
        context: { field: '--pipeline' },
        hint: `known pipelines: ${all.map((pipeline) => pipeline.name).join(', ')} (or give a module file)`,
      });
    }
    const withSources = all.filter((pipeline) => pipeline.sources.length > 0);
    if (withSources.length === 1 && withSources[0]) return withSources[0];
    throw new ConfigError(`the project has ${withSources.length} pipelines with sources: say which one`, {
      context: { field: '--pipeline' },
      hint: `--pipeline NAME, one of ${all.map((pipeline) => pipeline.name).join(', ')}`,
    });
  }

  /**
   * Where the pipeline's runs read and write: flags, then its entry in the project file, then the file's defaults
   * (then, for the source, the pipeline's own default). Undefined when no lake is given anywhere.
   */
  locations(pipeline: PipelineDefinition, flags: LocationFlags = {}): RunLocations | undefined {
    const content = this.file?.content;
    const entry = content?.pipelines?.[pipeline.name];
    const lake = this.lakeOf(pipeline.name, flags);
    if (!lake) return undefined;
    const engine = this.runEngine(pipeline, flags.engine);
    const retention = this.retention(pipeline.name);
    const settings = { ...(engine && { engine }), ...(retention && { retention }) };
    if (pipeline.sources.length === 0) return { source: null, lake, ...settings };
    const source =
      this.pick(flags.source, entry?.source, content?.source) ??
      (pipeline.defaultSource && this.fromFlag(pipeline.defaultSource));
    return { source: source ?? null, lake, ...settings };
  }

  /**
   * The retention the pipeline's runs apply: its entry's, key by key over the file's (the file's alone without a
   * pipeline); undefined: the defaults.
   */
  retention(pipeline?: string): RetentionSettings | undefined {
    const own = pipeline === undefined ? undefined : this.file?.content.pipelines?.[pipeline]?.retention;
    return mergeRetention(this.file?.content.retention, own);
  }

  /**
   * Where the pipeline named `name` writes, as `locations` says, without loading its definition (what listing the
   * project's lakes needs); undefined when no lake is given anywhere.
   */
  lakeOf(name: string, flags: Pick<LocationFlags, 'lake'> = {}): string | undefined {
    const content = this.file?.content;
    return this.pick(flags.lake, content?.pipelines?.[name]?.lake, content?.lake);
  }

  /** The names of the project's pipelines (default: the shipped ones), without loading them. */
  pipelineNames(): string[] {
    return this.declared().map((entry) => entry.name);
  }

  /** A location from a flag, else the pipeline's own in the file, else the file's shared one. */
  private pick(
    flag: string | undefined,
    own: string | undefined,
    shared: string | undefined,
  ): string | undefined {
    return flag ? this.fromFlag(flag) : own ? this.fromFile(own) : shared ? this.fromFile(shared) : undefined;
  }

  /**
   * The engine of the pipeline's silver and gold tables: `--engine`, then its entry's, then the file's (a `spark`
   * server given alone means Spark); the Spark server from its entry, the file, or MEDALLION_SPARK_REMOTE.
   * Undefined: DuckDB, with no Spark server for tables that ask for one.
   */
  private runEngine(pipeline: PipelineDefinition, flag: EngineKind | undefined): RunEngine | undefined {
    const own = this.file?.content.pipelines?.[pipeline.name]?.engine;
    const shared = this.file?.content.engine;
    const remote = this.env.MEDALLION_SPARK_REMOTE?.trim();
    if (remote && /;token=/i.test(remote)) {
      throw new ConfigError('MEDALLION_SPARK_REMOTE holds a token: runs record the address, never a secret', {
        context: { field: 'MEDALLION_SPARK_REMOTE' },
        hint: 'set the token in MEDALLION_SPARK_TOKEN on the machines that execute tasks',
      });
    }
    const spark = own?.spark ?? shared?.spark ?? (remote ? { remote } : undefined);
    const kind =
      flag ??
      own?.default ??
      (own?.spark ? 'spark' : undefined) ??
      shared?.default ??
      (shared?.spark ? 'spark' : 'duckdb');
    if (kind === 'duckdb' && !spark) return undefined;
    return { kind, ...(spark && { spark }) };
  }

  /** A clear error when tables of the pipeline are to run on Spark and no server is given. */
  private checkEngine(
    pipeline: PipelineDefinition,
    engine: RunEngine | undefined,
    flag: EngineKind | undefined,
  ): void {
    const onSpark = engine?.kind === 'spark' || pipeline.tables.some((table) => table.engine === 'spark');
    if (!onSpark || engine?.spark) return;
    throw new ConfigError(
      `pipeline ${pipeline.name} runs tables on Spark but no Spark Connect server is given`,
      {
        context: { field: flag === 'spark' ? '--engine' : 'engine.spark.remote' },
        hint: this.file
          ? `set engine.spark.remote (e.g. "sc://spark-host:15002") for it in ${this.file.file}, or MEDALLION_SPARK_REMOTE`
          : 'set MEDALLION_SPARK_REMOTE=sc://spark-host:15002, or describe the project in a medallion.config.json',
      },
    );
  }

  /** locations(), or a clear error naming what to give. */
  requireLocations(pipeline: PipelineDefinition, flags: LocationFlags = {}): RunLocations {
    const found = this.locations(pipeline, flags);
    if (!found) {
      throw new ConfigError(`pipeline ${pipeline.name} has no lake`, {
        context: { field: '--lake' },
        hint: this.file
          ? `set \`lake\` for it in ${this.file.file}, or pass --lake`
          : 'pass --lake DIR (or s3://…), or describe the project in a medallion.config.json (`medallion init`)',
      });
    }
    this.checkEngine(pipeline, found.engine, flags.engine);
    if (pipeline.sources.length > 0 && found.source === null) {
      throw new ConfigError(`pipeline ${pipeline.name} has no source`, {
        context: { field: '--source' },
        hint: this.file
          ? `set \`source\` for it in ${this.file.file}, or pass --source`
          : 'pass --source DIR (or s3://…)',
      });
    }
    return found;
  }

  engine(flags: { memoryLimit?: string } = {}): EngineSettings {
    const engine = this.file?.content.engine;
    const memoryLimit = flags.memoryLimit ?? engine?.memoryLimit;
    return {
      ...(memoryLimit && { memoryLimit }),
      ...(engine?.threads && { threads: engine.threads }),
      ...(engine?.scratchDir && { scratchDir: path.resolve(this.file?.dir ?? this.cwd, engine.scratchDir) }),
    };
  }

  /** The alert configuration: a file (from --alerts or the project file), the project file's inline one, or none. */
  alerts(flag: string | undefined): { file: string } | { inline: unknown; file: string } | undefined {
    if (flag) return { file: path.resolve(this.cwd, flag) };
    const alerts = this.file?.content.alerts;
    if (alerts === undefined || !this.file) return undefined;
    return typeof alerts === 'string'
      ? { file: path.resolve(this.file.dir, alerts) }
      : { inline: alerts, file: this.file.file };
  }

  scheduler(): NonNullable<NonNullable<ProjectFile['content']>['scheduler']> {
    return this.file?.content.scheduler ?? {};
  }

  serve(): NonNullable<NonNullable<ProjectFile['content']>['serve']> {
    return this.file?.content.serve ?? {};
  }

  private all(): Promise<PipelineDefinition[]> {
    this.loaded ??= Promise.all(this.declared().map((entry) => entry.load()));
    return this.loaded;
  }

  private declared(): Declared[] {
    const entries = this.file?.content.pipelines;
    if (!entries)
      return Object.keys(SHIPPED_PIPELINES).map((name) => ({ name, load: () => shippedPipeline(name) }));
    return Object.entries(entries).map(([name, entry]) => ({
      name,
      load: async () => {
        const field = `pipelines.${name}`;
        const pipeline = entry.module
          ? await loadPipelineModule(this.fromFile(entry.module))
          : await shippedPipeline(name, { file: this.file?.file, field });
        if (pipeline.name !== name) {
          throw new ConfigError(`${field}: the module defines pipeline ${pipeline.name}, not ${name}`, {
            context: { ...(this.file && { file: this.file.file }), field },
            hint: `rename the key to ${pipeline.name}`,
          });
        }
        return pipeline;
      },
    }));
  }
}

/** A module file rather than a pipeline name: it has a path separator or a script extension. */
export function isModulePath(ref: string): boolean {
  return /[\\/]/.test(ref) || /\.(m?js|ts)$/.test(ref);
}

/** An s3:// URL as given; anything else a directory, made absolute against `base`. */
export function absoluteLocation(location: string, base: string): string {
  const trimmed = location.trim();
  return /^s3:\/\//i.test(trimmed) ? trimmed : path.resolve(base, trimmed);
}

/** `sqlite:PATH` (or a bare path) made absolute against `base`; other URLs as given. */
function sqliteRelativeTo(url: string, base: string): string {
  if (url === ':memory:' || /^postgres(ql)?:/i.test(url)) return url;
  const match = /^(sqlite3?:)(\/\/)?(.*)$/i.exec(url);
  const file = match ? (match[3] ?? '') : url;
  return `sqlite:${path.resolve(base, file)}`;
}

/**
 * Without a project file, each lake keeps its history beside it: in the lake's `_medallion` directory, or for a
 * lake on S3 (where SQLite cannot live) in the user's data directory, one file per lake.
 */
export function databaseNextTo(lake: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!/^s3:\/\//i.test(lake)) return `sqlite:${path.join(lake, '_medallion', 'metadata.db')}`;
  const data = env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  const id = createHash('sha256').update(lake).digest('hex').slice(0, 16);
  return `sqlite:${path.join(data, 'medallion', `lake-${id}.db`)}`;
}
