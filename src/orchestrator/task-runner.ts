import type { ParamValue, PipelineDefinition, TaskOutcome } from '../core/pipeline.js';
import type { PlannedTask } from '../core/task-plan.js';
import type { AttemptRecord, RunRecord, TaskInstanceRecord } from '../metadata/metadata-store.js';

/** One try of one task, as handed to whatever runs it. */
export interface TaskJob {
  pipeline: PipelineDefinition;
  run: RunRecord;
  task: PlannedTask;
  attempt: AttemptRecord;
}

/** What a running try can use besides its job. */
export interface AttemptContext {
  /** Aborted when the try times out or the process stops. */
  signal: AbortSignal;
  log(message: string): void;
  params: Readonly<Record<string, ParamValue>>;
}

/** A task's report: kept with its attempt and merged into the run's summary. */
export interface TaskReport extends TaskOutcome {
  detail: string;
}

/**
 * The port between the orchestrator and the work itself: the data pipeline's tasks (runner/) or, in the
 * benchmark, tasks that do nothing.
 */
export interface TaskRunner {
  /**
   * What the task's inputs look like now (upstream versions, landing checksums, its own code); undefined when
   * the task must always run. A task whose fingerprint equals that of its last success is skipped.
   */
  fingerprint(job: TaskJob): Promise<string | undefined>;
  /** The report of a try skipped because its inputs are unchanged. */
  describeSkipped(job: TaskJob): Promise<TaskReport>;
  run(job: TaskJob, context: AttemptContext): Promise<TaskReport>;
  /** Called once when a run is over, with its tasks and their latest attempts: returns the run's summary. */
  finishRun(
    pipeline: PipelineDefinition,
    run: RunRecord,
    tasks: TaskInstanceRecord[],
    attempts: AttemptRecord[],
  ): Promise<unknown>;
  /**
   * Why this runner cannot execute the run's tasks (its locations cannot be opened here: an unknown connection, a
   * lake it cannot reach…), or undefined when it can. Asked before any of its tasks is claimed.
   */
  cannotRun?(pipeline: PipelineDefinition, run: RunRecord): Promise<string | undefined>;
  /** The run ended elsewhere (another process finished it): let go of what this runner holds for it. */
  release?(runId: string): Promise<void>;
}
