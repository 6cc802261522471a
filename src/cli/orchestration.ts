import { openAlerter, type Alerter } from '../alerts/alerter.js';
import { ConfigError } from '../core/errors.js';
import type { PipelineDefinition } from '../core/pipeline.js';
import { DEFAULT_QUEUE } from '../core/queues.js';
import type { MetadataStore, ProcessKind } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { Scheduler } from '../orchestrator/scheduler.js';
import { WorkerProcess } from '../orchestrator/worker-process.js';
import { oneMachineLocations, refuseOneMachineLocations } from '../project/fleet.js';
import type { PipelineTaskRunner } from '../runner/pipeline-task-runner.js';
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
  drainGraceMs?: number;
  alerts?: string;
  /** false with --no-execute: schedule only, execute nothing. */
  execute?: boolean;
  /** The queues it claims tasks from (a worker: default `default`; a scheduler: default every queue). */
  queues?: string[];
  /** Its name in attempts and in `medallion workers`. */
  name?: string;
  /** Every process of the fleet runs on this machine: SQLite metadata and local lakes are then allowed. */
  singleHost?: boolean;
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

/** What a scheduler and a worker process are both built from. */
interface Orchestration {
  project: Project;
  pipelines: PipelineDefinition[];
  store: MetadataStore;
  runner: PipelineTaskRunner;
  settings: ProcessSettings;
  alerter: Alerter | undefined;
}

type ProcessSettings = ReturnType<typeof settingsOf>;

/**
 * Everything a process needs, opened; the store is closed again when anything fails. `sharesQueue`: a worker, which
 * takes tasks other machines may take too (a scheduler executes its own, on its machine: SQLite is fine for it).
 */
async function openOrchestration(flags: SchedulerFlags, sharesQueue: boolean): Promise<Orchestration> {
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
    const settings = settingsOf(project, flags);
    if (sharesQueue && !settings.singleHost) {
      refuseOneMachineStore(store);
      for (const pipeline of pipelines) {
        refuseOneMachineLocations(pipeline.name, project.locations(pipeline, flags));
      }
    }
    const alerts = project.alerts(flags.alerts);
    const alerter = alerts ? await openAlerter(alerts, store) : undefined;
    const open = locationOpener(storeSettings(process.env, storeConnections(store)));
    await checkLocations(project, pipelines, flags, open);
    const runner = new PipelineTaskRunner({ open, ...project.engine(flags), progress: progressOnStderr() });
    return { project, pipelines, store, runner, settings, alerter };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** The project file's process settings with this command's flags over them, and medallion's defaults under. */
function settingsOf(project: Project, flags: SchedulerFlags) {
  const settings = { ...project.scheduler(), ...definedOnly(flags) };
  return {
    slots: settings.slots ?? 4,
    pollMs: settings.pollMs ?? 1_000,
    heartbeatMs: settings.heartbeatMs ?? 5_000,
    staleAfterMs: settings.staleAfterMs ?? 30_000,
    drainGraceMs: settings.drainGraceMs ?? 60_000,
    queues: flags.queues && flags.queues.length > 0 ? flags.queues : settings.queues,
    singleHost: flags.singleHost ?? settings.singleHost ?? false,
  };
}

/**
 * A scheduler over the project's pipelines (or those --pipeline names), executing tasks in this process against
 * each run's own locations unless --no-execute; stopped by SIGINT/SIGTERM. The runs its schedules create get the
 * locations the project (or --lake/--source) gives each pipeline.
 */
export async function startScheduler(flags: SchedulerFlags, kind: ProcessKind): Promise<StartedScheduler> {
  const executes = flags.execute !== false;
  const { project, pipelines, store, runner, settings, alerter } = await openOrchestration(flags, false);
  const scheduler = new Scheduler({
    store,
    pipelines,
    runner,
    kind,
    execute: executes,
    locations: (pipeline) => project.locations(pipeline, flags),
    slots: settings.slots,
    ...(settings.queues && { queues: settings.queues }),
    pollMs: settings.pollMs,
    heartbeatMs: settings.heartbeatMs,
    staleAfterMs: settings.staleAfterMs,
    ...(alerter && { observer: alerter }),
    progress: progressOnStderr(),
  });
  await scheduler.announce();
  note(
    `medallion ${kind} ${scheduler.worker}: ${pipelines.map((pipeline) => pipeline.name).join(', ')}; ` +
      (executes
        ? `${settings.slots} slot(s), queues ${settings.queues?.join(', ') ?? 'all'}`
        : 'scheduling only (--no-execute)') +
      (project.file ? `; project ${project.file.file}` : ''),
  );
  const done = untilSignalled(kind, scheduler, settings, async () => {
    await alerter?.close();
    await runner.close();
    await store.close();
  });
  return { scheduler, store, project, pipelines, done };
}

/** `medallion worker`: executes the queued tasks of its queues, for runs any scheduler started, until signalled. */
export async function startWorker(
  flags: SchedulerFlags,
): Promise<{ worker: WorkerProcess; done: Promise<void> }> {
  const { project, pipelines, store, runner, settings } = await openOrchestration(flags, true);
  const worker = new WorkerProcess({
    store,
    pipelines,
    runner,
    ...(flags.name && { id: flags.name }),
    slots: settings.slots,
    queues: settings.queues ?? [DEFAULT_QUEUE],
    pollMs: settings.pollMs,
    heartbeatMs: settings.heartbeatMs,
    staleAfterMs: settings.staleAfterMs,
    ...(!settings.singleHost && { refuse: oneMachineLocations }),
    progress: progressOnStderr(),
  });
  await worker.announce();
  note(
    `medallion worker ${worker.id}: ${pipelines.map((pipeline) => pipeline.name).join(', ')}; ` +
      `queues ${(settings.queues ?? [DEFAULT_QUEUE]).join(', ')}; ${settings.slots} slot(s)` +
      (project.file ? `; project ${project.file.file}` : ''),
  );
  const done = untilSignalled('worker', worker, settings, async () => {
    await runner.close();
    await store.close();
  });
  return { worker, done };
}

interface Stoppable {
  loop(): Promise<void>;
  stop(options: { graceMs?: number }): Promise<void>;
  finish(): Promise<void>;
}

/**
 * Loops until SIGINT/SIGTERM, then drains: nothing new is claimed, running tries finish within the grace period
 * or are handed back to other processes; a second signal hands them back at once.
 */
function untilSignalled(
  kind: string,
  target: Stoppable,
  settings: ProcessSettings,
  close: () => Promise<void>,
): Promise<void> {
  let signals = 0;
  const stop = (): void => {
    signals += 1;
    if (signals === 1) {
      note(`medallion ${kind}: stopping: running tasks get ${settings.drainGraceMs / 1000} s to finish`);
      void target.stop({ graceMs: settings.drainGraceMs });
    } else {
      note(`medallion ${kind}: handing the running tasks back now`);
      void target.stop({ graceMs: 0 });
    }
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return target
    .loop()
    .then(() => target.finish())
    .finally(async () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await close();
    });
}

/**
 * Processes that execute on several machines share the queue through the metadata database: a SQLite file is on
 * one machine only.
 */
function refuseOneMachineStore(store: MetadataStore): void {
  if (store.dialect !== 'sqlite') return;
  throw new ConfigError(
    'workers share their queue with processes on other machines through the metadata database, and SQLite is ' +
      'a file on one machine',
    {
      context: { field: '--db' },
      hint:
        "point --db (or the project file's database) at PostgreSQL (postgres://…); on one machine, " +
        '`medallion scheduler --slots N` runs the tasks itself, or pass --single-host',
    },
  );
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

const NUMBER_FLAGS = ['slots', 'pollMs', 'heartbeatMs', 'staleAfterMs', 'drainGraceMs'] as const;

/** The flags given, without those left undefined (so that they do not hide the project file's values). */
function definedOnly(flags: SchedulerFlags): Partial<Record<(typeof NUMBER_FLAGS)[number], number>> {
  return Object.fromEntries(
    NUMBER_FLAGS.filter((key) => flags[key] !== undefined).map((key) => [key, flags[key]]),
  );
}
