import type { PipelineDefinition } from '../core/pipeline.js';
import { planTasks, type PlannedTask } from '../core/task-plan.js';
import type { RunRecord } from '../metadata/metadata-store.js';
import { definitionHash } from './run-control.js';

/** A pipeline a process has loaded: its definition, that definition's fingerprint and its planned tasks. */
export interface KnownPipeline {
  definition: PipelineDefinition;
  hash: string;
  tasks: Map<string, PlannedTask>;
}

/** The pipelines one process loaded (from its project file or flags), as schedulers and workers consult them. */
export class PipelineCatalog {
  private readonly known = new Map<string, KnownPipeline>();

  constructor(pipelines: readonly PipelineDefinition[]) {
    for (const definition of pipelines) {
      this.known.set(definition.name, {
        definition,
        hash: definitionHash(definition),
        tasks: new Map(planTasks(definition).map((task) => [task.id, task])),
      });
    }
  }

  get(name: string): KnownPipeline | undefined {
    return this.known.get(name);
  }

  has(name: string): boolean {
    return this.known.has(name);
  }

  all(): KnownPipeline[] {
    return [...this.known.values()];
  }

  /** What the processes table records: which pipelines, with which definitions. */
  announced(): { name: string; definitionHash: string }[] {
    return this.all().map((known) => ({ name: known.definition.name, definitionHash: known.hash }));
  }

  /** Why this process may not execute the run's tasks for want of its definition, or undefined when it may. */
  definitionBlocker(run: RunRecord): string | undefined {
    const known = this.known.get(run.pipeline);
    if (!known) return `pipeline ${run.pipeline} is not loaded here`;
    if (run.definitionHash !== null && run.definitionHash !== known.hash) {
      return (
        `the run was planned from another definition of ${run.pipeline} (${run.definitionHash}; this process ` +
        `has ${known.hash}): run a process with the same pipeline code, or trigger a new run`
      );
    }
    return undefined;
  }
}
