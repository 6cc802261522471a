import { openAlerter } from '../alerts/alerter.js';
import type { PipelineDefinition } from '../core/pipeline.js';
import type { MetadataStore, ProcessKind } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { Scheduler } from '../orchestrator/scheduler.js';
import type { Project } from '../project/project.js';
import { note } from './output.js';
import { openProject } from './project-context.js';
import { progressOnStderr } from './render.js';

export interface SchedulerFlags {
  db?: string;
  /** Pipeline names or module files; default: the project's pipelines. */
  pipeline?: string[];
  source?: string;
  lake?: string;
  slots?: number;
  memoryLimit?: string;
  pollMs?: number;
  heartbeatMs?: number;
  staleAfterMs?: number;
  alerts?: string;
}

export interface StartedScheduler {
  scheduler: Scheduler;
  /** The scheduler's store, open until `done` settles. */
  store: MetadataStore;
  project: Project;
  pipelines: PipelineDefinition[];
  /** Settles once the scheduler has stopped, its tries have ended and the store is closed. */
  done: Promise<void>;
}

/**
 * A scheduler over the project's pipelines (or those --pipeline names), executing tasks in this process against
 * each run's own locations; stopped by SIGINT/SIGTERM. The runs its schedules create get the locations the
 * project (or --lake/--source) gives each pipeline.
 */
export async function startScheduler(flags: SchedulerFlags, kind: ProcessKind): Promise<StartedScheduler> {
  // Loaded here, not on import: the commands that only read the metadata store start faster without them.
  const [{ PipelineTaskRunner }, { locationOpener, storeSettings }, { storeConnections }] = await Promise.all(
    [
      import('../runner/pipeline-task-runner.js'),
      import('../project/locations.js'),
      import('../app/connections.js'),
    ],
  );
  const project = await openProject();
  const pipelines = await project.pipelines(flags.pipeline);
  const store = await openMetadataStore(
    project.databaseUrl(flags.db, flags.lake && project.lakeFromFlag(flags.lake)),
  );
  try {
    const alerts = project.alerts(flags.alerts);
    const alerter = alerts ? await openAlerter(alerts, store) : undefined;
    const open = locationOpener(storeSettings(process.env, storeConnections(store)));
    await checkLocations(project, pipelines, flags, open);
    const settings = { ...project.scheduler(), ...definedOnly(flags) };
    const runner = new PipelineTaskRunner({ open, ...project.engine(flags), progress: progressOnStderr() });
    const scheduler = new Scheduler({
      store,
      pipelines,
      runner,
      kind,
      locations: (pipeline) => project.locations(pipeline, flags),
      slots: settings.slots ?? 4,
      pollMs: settings.pollMs ?? 1_000,
      heartbeatMs: settings.heartbeatMs ?? 5_000,
      staleAfterMs: settings.staleAfterMs ?? 30_000,
      ...(alerter && { observer: alerter }),
      progress: progressOnStderr(),
    });
    const stop = (): void => {
      note(`medallion ${kind}: stopping after the running tasks`);
      void scheduler.stop();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await scheduler.announce();
    note(
      `medallion scheduler ${scheduler.worker}: ${pipelines.map((pipeline) => pipeline.name).join(', ')}; ` +
        `${settings.slots ?? 4} slot(s)${project.file ? `; project ${project.file.file}` : ''}`,
    );
    const done = scheduler
      .loop()
      .then(() => scheduler.finish())
      .finally(async () => {
        await alerter?.close();
        await runner.close();
        await store.close();
      });
    return { scheduler, store, project, pipelines, done };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/**
 * Opens the locations of each pipeline once at start, so that a bad one (wrong credentials, a missing bucket) is
 * said now rather than at the first scheduled run; and says which scheduled pipelines get no runs for want of a lake.
 */
async function checkLocations(
  project: Project,
  pipelines: readonly PipelineDefinition[],
  flags: SchedulerFlags,
  open: import('../runner/pipeline-task-runner.js').LocationOpener,
): Promise<void> {
  for (const pipeline of pipelines) {
    const locations = project.locations(pipeline, flags);
    if (!locations) {
      if (pipeline.schedule) {
        note(
          `medallion: ${pipeline.name} has a schedule but no lake: its scheduled runs are not created ` +
            `(give it a lake in the project file, or pass --lake); triggered runs carry their own`,
        );
      }
      continue;
    }
    await open.lake(locations.lake);
    if (locations.source !== null) await open.source(locations.source);
  }
}

/** The flags given, without those left undefined (so that they do not hide the project file's values). */
function definedOnly(
  flags: SchedulerFlags,
): Partial<Record<'slots' | 'pollMs' | 'heartbeatMs' | 'staleAfterMs', number>> {
  return Object.fromEntries(
    (['slots', 'pollMs', 'heartbeatMs', 'staleAfterMs'] as const)
      .filter((key) => flags[key] !== undefined)
      .map((key) => [key, flags[key]]),
  );
}
