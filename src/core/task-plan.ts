import { buildTaskGraph, type Task } from './graph.js';
import type { PipelineDefinition, TableDefinition, TaskPolicy } from './pipeline.js';
import { DEFAULT_QUEUE } from './queues.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';
import { parseDuration } from './schedule.js';

/** A task as the scheduler sees it: its place in the graph and how its tries are bounded. */
export interface PlannedTask extends Task {
  retry: RetryPolicy;
  /** A try running longer fails; none when absent. */
  timeoutMs?: number;
  /** The queue whose workers may claim its tries. */
  queue: string;
}

/** The silver or gold table a table task builds, as the pipeline defines it. */
export function tableDefinitionOf(pipeline: PipelineDefinition, task: Task): TableDefinition | undefined {
  const output = task.output;
  if (task.kind !== 'table' || !output) return undefined;
  return pipeline.tables.find((table) => table.layer === output.layer && table.name === output.table);
}

function ownPolicy(pipeline: PipelineDefinition, task: Task): TaskPolicy | undefined {
  if (task.kind === 'custom') return pipeline.tasks?.find((custom) => custom.name === task.id)?.policy;
  return tableDefinitionOf(pipeline, task)?.policy;
}

/** The pipeline's policy for a task: its own settings over the pipeline's task defaults over medallion's. */
export function resolvePolicy(
  defaults: TaskPolicy | undefined,
  own: TaskPolicy | undefined,
  field: string,
): { retry: RetryPolicy; timeoutMs?: number; queue: string } {
  const policy = { ...defaults, ...own };
  const retry: RetryPolicy = {
    retries: policy.retries ?? DEFAULT_RETRY_POLICY.retries,
    retryDelayMs: policy.retryDelay
      ? parseDuration(policy.retryDelay, `${field}.retryDelay`)
      : DEFAULT_RETRY_POLICY.retryDelayMs,
    exponentialBackoff: policy.exponentialBackoff ?? DEFAULT_RETRY_POLICY.exponentialBackoff,
    maxRetryDelayMs: policy.maxRetryDelay
      ? parseDuration(policy.maxRetryDelay, `${field}.maxRetryDelay`)
      : DEFAULT_RETRY_POLICY.maxRetryDelayMs,
  };
  const queue = policy.queue ?? DEFAULT_QUEUE;
  return policy.timeout
    ? { retry, queue, timeoutMs: parseDuration(policy.timeout, `${field}.timeout`) }
    : { retry, queue };
}

/** Every task of the pipeline in dependency order, with its retry policy and timeout. */
export function planTasks(pipeline: PipelineDefinition): PlannedTask[] {
  return buildTaskGraph(pipeline).map((task) => ({
    ...task,
    ...resolvePolicy(pipeline.taskDefaults, ownPolicy(pipeline, task), `tasks.${task.id}.policy`),
  }));
}
