/**
 * Which engine computes a task, and the Spark sessions of the tasks on Spark. Silver and gold tables run on their
 * own `engine`, else on the run's (recorded when the run was created, so every process executing it agrees);
 * quality_check reads on the run's engine; landing and bronze ingestion are DuckDB's whatever the run says.
 */
import type { EngineKind, PipelineDefinition } from '../core/pipeline.js';
import type { Task } from '../core/graph.js';
import { tableDefinitionOf } from '../core/task-plan.js';
import { ConfigError } from '../core/errors.js';
import { duckdbDialect } from '../engine/dialects/duckdb.js';
import { sparkDialect } from '../engine/dialects/spark.js';
import type { Dialect } from '../engine/dialect.js';
import type { DuckDbEngine } from '../engine/duckdb/engine.js';
import type { Engine, StatementTracer } from '../engine/engine.js';
import { SparkEngine } from '../engine/spark/engine.js';
import { sessionJobs } from '../engine/spark/ui-jobs.js';
import type { RunRecord } from '../metadata/metadata-store.js';

export function taskEngineKind(pipeline: PipelineDefinition, task: Task, run: RunRecord): EngineKind {
  const runDefault = run.locations?.engine?.kind ?? 'duckdb';
  if (task.kind === 'quality_check') return runDefault;
  if (task.kind !== 'table') return 'duckdb';
  return tableDefinitionOf(pipeline, task)?.engine ?? runDefault;
}

export function dialectOf(kind: EngineKind): Dialect {
  return kind === 'spark' ? sparkDialect : duckdbDialect;
}

/** What a try ran on Spark: kept in its log and with its report (the attempt's output). */
export interface SparkTryRecord {
  /** The Spark application of the Connect server (spark.app.id), as the Spark UI and history server name it. */
  applicationId: string;
  /** The ids of its Spark jobs, from the Spark UI; absent when the UI did not answer (Spark Connect names none). */
  jobIds?: number[];
  /** The stages of those jobs, and those Spark Connect's progress reports named. */
  stageIds: number[];
}

/** A try's Spark Connect session, and what the try has run on Spark so far. */
export interface SparkTry {
  engine: Engine;
  record(): Promise<SparkTryRecord>;
}

/**
 * A Spark Connect session for one try, at the run's Spark server; the try's log names the application (and its
 * UI) that ran it. `local` reads the footers of the files Spark stages, which `scratchDir` holds (and the files
 * themselves when the lake is not on S3).
 */
export async function openSparkSession(
  run: RunRecord,
  local: DuckDbEngine,
  scratchDir: string,
  tracer: StatementTracer,
  log: (message: string) => void,
): Promise<SparkTry> {
  const spark = run.locations?.engine?.spark;
  if (!spark) {
    throw new ConfigError(`run ${run.id} has tables on Spark but records no Spark Connect server`, {
      hint: 'set engine.spark.remote in the project file (or MEDALLION_SPARK_REMOTE) and trigger a new run',
    });
  }
  // The token is this process's secret (MEDALLION_SPARK_TOKEN), never part of the address the run records.
  const token = process.env.MEDALLION_SPARK_TOKEN;
  const engine = await SparkEngine.create({
    remote: token ? withToken(spark.remote, token) : spark.remote,
    scratchDir,
    localQuery: (sql) => local.all(sql),
    tracer,
  });
  const app = await engine.applicationInfo().catch((error: unknown) => {
    engine.close();
    throw error;
  });
  const ui = spark.uiUrl ?? app.uiUrl;
  log(
    `engine spark ${app.sparkVersion} at ${engine.endpoint}: application ${app.appId} (${app.master})` +
      (ui ? `, UI ${ui}` : ''),
  );
  return { engine, record: () => recordOf(engine, app.appId, ui) };
}

/** The try's jobs and stages: from the Spark UI when it answers, else the stages the progress reports named. */
async function recordOf(
  engine: SparkEngine,
  applicationId: string,
  ui: string | undefined,
): Promise<SparkTryRecord> {
  const reported = engine.stageIds();
  const jobs = ui ? await sessionJobs(ui, applicationId, engine.sessionId).catch(() => undefined) : undefined;
  return {
    applicationId,
    ...(jobs && { jobIds: jobs.jobIds }),
    stageIds: [...new Set([...(jobs?.stageIds ?? []), ...reported])].sort((a, b) => a - b),
  };
}

/** The try's Spark work for its log: `spark application app-… ran jobs 3-5 (stages 7-12, 14)` */
export function describeSparkTry({ applicationId, jobIds, stageIds }: SparkTryRecord): string {
  const stages = stageIds.length === 0 ? 'no stage' : `stage${plural(stageIds)} ${ranges(stageIds)}`;
  if (!jobIds)
    return `spark application ${applicationId} ran ${stages} (its job ids: the Spark UI did not answer)`;
  if (jobIds.length === 0) return `spark application ${applicationId} ran no job`;
  return `spark application ${applicationId} ran job${plural(jobIds)} ${ranges(jobIds)} (${stages})`;
}

function plural(ids: readonly number[]): string {
  return ids.length === 1 ? '' : 's';
}

/** 0, 1, 2, 3, 7 → "0-3, 7" */
function ranges(ids: readonly number[]): string {
  const sorted = [...ids].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j += 1;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** The address with `;token=…` added to its parameters (sc://host:port/;a=b;token=…). */
function withToken(remote: string, token: string): string {
  return `${remote.includes('/;') ? remote : `${remote.replace(/\/$/, '')}/`};token=${token}`;
}
