/** The Pipeline page's data: the pipeline, the grid of its last runs (polled fast while one of them goes), a run. */
import { useQuery } from '@tanstack/react-query';
import type { PipelineDetail } from '../../../app/pipelines.js';
import type { runDetail, runGrid } from '../../../app/runs.js';
import type { RunState, TaskState } from '../../../core/run-state.js';
import { api } from '../../api/client.js';

export type Grid = Awaited<ReturnType<typeof runGrid>>;
export type GridRun = Grid['runs'][number];
export type RunDetail = Awaited<ReturnType<typeof runDetail>>;
export type TaskStates = Record<string, TaskState>;

/** Everything about one pipeline lives under this key: invalidating it refreshes the page. */
export const pipelineKey = (name: string) => ['pipeline', name] as const;

/** The pipeline's address in the API. */
export const pipelineApi = (name: string): string => `/api/pipelines/${encodeURIComponent(name)}`;

/** While a run goes the grid follows it closely; otherwise it only looks for runs schedulers start. */
const LIVE_MS = 2_000;
const IDLE_MS = 10_000;

export const isGoing = (state: RunState): boolean => state === 'queued' || state === 'running';

export function usePipeline(name: string) {
  return useQuery({
    queryKey: pipelineKey(name),
    queryFn: () => api<PipelineDetail>(pipelineApi(name)),
    refetchInterval: IDLE_MS,
  });
}

export function useGrid(name: string, limit: number) {
  return useQuery({
    queryKey: [...pipelineKey(name), 'grid', limit],
    queryFn: () => api<Grid>(`${pipelineApi(name)}/grid?limit=${limit}`),
    refetchInterval: (query) =>
      query.state.data?.runs.some((run) => isGoing(run.state)) ? LIVE_MS : IDLE_MS,
  });
}

/** The task states of a run the grid does not show (an older one, named in the URL). */
export function useRunStates(runId: string | undefined, enabled: boolean) {
  return useQuery({
    queryKey: ['run', runId],
    queryFn: () => api<RunDetail>(`/api/runs/${encodeURIComponent(runId ?? '')}`),
    enabled: enabled && runId !== undefined,
    refetchInterval: (query) => (query.state.data && isGoing(query.state.data.run.state) ? LIVE_MS : false),
    select: (detail): TaskStates => Object.fromEntries(detail.tasks.map((task) => [task.taskId, task.state])),
  });
}
