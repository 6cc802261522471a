/**
 * The synthetic pipelines of no-op tasks that the scheduling and workers benchmarks drive: a fan (one start task,
 * 998 tasks in parallel, one end task after all of them) and a chain of 100 tasks each after the one before.
 * Worker processes load them from a pipeline module (`noopModule`) that builds them with these same functions, so
 * that the definition the benchmark triggers and the one the workers load are one and the same (same hash).
 */
import {
  definePipeline,
  type CustomTaskDefinition,
  type PipelineDefinition,
  type TaskOutcome,
} from '../core/pipeline.js';

export type NoopShape = 'fan' | 'chain';

export const SHAPE_TASKS: Record<NoopShape, number> = { fan: 1_000, chain: 100 };

export type NoopRun = () => Promise<TaskOutcome | void>;

export const noop: NoopRun = async () => {};

/**
 * Does nothing but say when it was called (epoch ms, sub-millisecond), kept with its attempt: from the worker's
 * side, when the try really began, whatever time the store stamped on the claim.
 */
export const stampedNoop: NoopRun = async () => ({
  detail: 'no-op',
  data: { ranAt: performance.timeOrigin + performance.now() },
});

/** The time a try of a stamped no-op task was called, from its attempt's output. */
export function ranAt(output: unknown): number | undefined {
  const data = (output as { data?: { ranAt?: unknown } } | null | undefined)?.data;
  return typeof data?.ranAt === 'number' ? data.ranAt : undefined;
}

/** One `start` task, `tasks - 2` tasks after it in parallel, one `end` task after all of them. */
export function fanPipeline(tasks = SHAPE_TASKS.fan, run: NoopRun = noop): PipelineDefinition {
  const middle = Array.from({ length: tasks - 2 }, (_, index) => `t_${String(index + 1).padStart(4, '0')}`);
  return definePipeline({
    name: 'bench_fan',
    sources: [],
    tables: [],
    tasks: [
      { name: 'start', run },
      ...middle.map((name): CustomTaskDefinition => ({ name, dependsOn: ['start'], run })),
      { name: 'end', dependsOn: middle, run },
    ],
  });
}

/** `tasks` tasks, each depending on the one before. */
export function chainPipeline(tasks = SHAPE_TASKS.chain, run: NoopRun = noop): PipelineDefinition {
  const names = Array.from({ length: tasks }, (_, index) => `c_${String(index + 1).padStart(4, '0')}`);
  return definePipeline({
    name: 'bench_chain',
    sources: [],
    tables: [],
    tasks: names.map((name, index) => ({
      name,
      ...(index > 0 && { dependsOn: [names[index - 1] ?? ''] }),
      run,
    })),
  });
}

/**
 * The text of a pipeline module (an .mjs whose default export is the definition) for `medallion worker` and
 * `medallion scheduler` to load: the shape built by this very file, from the build, with stamped no-op tasks.
 */
export function noopModule(shape: NoopShape): string {
  const build = shape === 'fan' ? 'fanPipeline' : 'chainPipeline';
  return [
    `import { ${build}, stampedNoop } from ${JSON.stringify(import.meta.url)};`,
    `export default ${build}(${SHAPE_TASKS[shape]}, stampedNoop);`,
    '',
  ].join('\n');
}
