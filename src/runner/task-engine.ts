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

/**
 * A Spark Connect session for one try, at the run's Spark server; the try's log names the application (and its
 * UI) that ran it. `local` reads the footers of the files Spark stages, which `scratchDir` holds.
 */
export async function openSparkSession(
  run: RunRecord,
  local: DuckDbEngine,
  scratchDir: string,
  tracer: StatementTracer,
  log: (message: string) => void,
): Promise<Engine> {
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
  const app = await engine.applicationInfo();
  const ui = spark.uiUrl ?? app.uiUrl;
  log(
    `engine spark ${app.sparkVersion} at ${engine.endpoint}: application ${app.appId} (${app.master})` +
      (ui ? `, UI ${ui}` : ''),
  );
  return engine;
}

/** The address with `;token=…` added to its parameters (sc://host:port/;a=b;token=…). */
function withToken(remote: string, token: string): string {
  return `${remote.includes('/;') ? remote : `${remote.replace(/\/$/, '')}/`};token=${token}`;
}
