import { ConfigError } from '../core/errors.js';
import { openAlerter } from '../alerts/alerter.js';
import type { PipelineDefinition } from '../core/pipeline.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { Scheduler } from '../orchestrator/scheduler.js';
import { loadPipeline } from './load-pipeline.js';
import { progressOnStderr } from './render.js';

/** Where runs are kept when neither --db nor MEDALLION_DB says: a SQLite file under the working directory. */
export const DEFAULT_DB = 'sqlite:.medallion/metadata.db';

export function dbUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env.MEDALLION_DB || DEFAULT_DB);
}

export function openDb(flag: string | undefined): Promise<MetadataStore> {
  return openMetadataStore(dbUrl(flag));
}

/** The pipelines named by --pipeline (repeatable), or the two shipped ones. */
export async function loadPipelines(files: readonly string[] | undefined): Promise<PipelineDefinition[]> {
  if (files && files.length > 0) return Promise.all(files.map((file) => loadPipeline(file)));
  return [
    await loadPipeline(undefined),
    (await import('../pipelines/data_quality_checks/pipeline.js')).default,
  ];
}

export function findPipeline(pipelines: readonly PipelineDefinition[], name: string): PipelineDefinition {
  const pipeline = pipelines.find((candidate) => candidate.name === name);
  if (!pipeline) {
    throw new ConfigError(`no pipeline named ${name}`, {
      context: { field: 'pipeline' },
      hint: `known pipelines: ${pipelines.map((candidate) => candidate.name).join(', ')} (load others with --pipeline FILE)`,
    });
  }
  return pipeline;
}

export interface SchedulerFlags {
  db?: string;
  pipeline?: string[];
  source?: string;
  lake: string;
  slots: number;
  memoryLimit?: string;
  pollMs: number;
  heartbeatMs: number;
  staleAfterMs: number;
  alerts?: string;
}

export interface StartedScheduler {
  scheduler: Scheduler;
  /** The scheduler's store, open until `done` settles. */
  store: MetadataStore;
  pipelines: PipelineDefinition[];
  /** Settles once the scheduler has stopped, its tries have ended and the store is closed. */
  done: Promise<void>;
}

/** A scheduler over the given pipelines, executing their tasks in this process; stopped by SIGINT/SIGTERM. */
export async function startScheduler(flags: SchedulerFlags): Promise<StartedScheduler> {
  // Loaded here, not on import: the commands that only read the metadata store start faster without them.
  const [{ PipelineTaskRunner }, { openLake, openSource, storeSettings }, { storeConnections }] =
    await Promise.all([
      import('../runner/pipeline-task-runner.js'),
      import('./locations.js'),
      import('./connections-command.js'),
    ]);
  const pipelines = await loadPipelines(flags.pipeline);
  const store = await openDb(flags.db);
  const alerter = flags.alerts ? await openAlerter(flags.alerts, store) : undefined;
  const settings = storeSettings(process.env, storeConnections(store));
  const source = flags.source ?? pipelines.find((pipeline) => pipeline.defaultSource)?.defaultSource;
  if (!source) {
    throw new ConfigError('no source given', {
      context: { field: '--source' },
      hint: 'pass --source DIR or --source s3://bucket/prefix, or set defaultSource in the pipeline',
    });
  }
  const runner = new PipelineTaskRunner({
    source: await openSource(source, settings),
    lake: await openLake(flags.lake, settings),
    ...(flags.memoryLimit && { memoryLimit: flags.memoryLimit }),
    progress: progressOnStderr(),
  });
  const scheduler = new Scheduler({
    store,
    pipelines,
    runner,
    slots: flags.slots,
    pollMs: flags.pollMs,
    heartbeatMs: flags.heartbeatMs,
    staleAfterMs: flags.staleAfterMs,
    ...(alerter && { observer: alerter }),
    progress: progressOnStderr(),
  });
  const stop = (): void => {
    process.stderr.write('medallion scheduler: stopping after the running tasks\n');
    void scheduler.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stderr.write(
    `medallion scheduler ${scheduler.worker}: ${pipelines.map((pipeline) => pipeline.name).join(', ')}; ${flags.slots} slot(s)\n`,
  );
  const done = scheduler
    .loop()
    .then(() => scheduler.drain())
    .finally(async () => {
      await alerter?.close();
      await runner.close();
      await store.close();
    });
  return { scheduler, store, pipelines, done };
}
