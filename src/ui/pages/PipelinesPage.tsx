/** Every pipeline at a glance: schedule in words, next run, paused switch, the last runs, success rate. */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import type { PipelineOverview } from '../../app/pipelines.js';
import { api } from '../api/client.js';
import { can, useMe } from '../auth.js';
import { PauseSwitch } from '../components/PauseSwitch.js';
import { RunSquares, when } from '../components/states.js';

export const PIPELINES_KEY = ['pipelines'] as const;

export function usePipelines() {
  return useQuery({
    queryKey: PIPELINES_KEY,
    queryFn: () => api<{ pipelines: PipelineOverview[] }>('/api/pipelines'),
    refetchInterval: 5_000,
  });
}

export function PipelinesPage() {
  const { data: me } = useMe();
  const client = useQueryClient();
  const pipelines = usePipelines();
  if (pipelines.isPending) return <p className="loading">Loading pipelines…</p>;
  if (pipelines.error)
    return (
      <p role="alert" className="error">
        {pipelines.error.message}
      </p>
    );
  return (
    <section>
      <h1>Pipelines</h1>
      <table className="list">
        <thead>
          <tr>
            <th>Pipeline</th>
            <th>Schedule</th>
            <th>Next run</th>
            <th>State</th>
            <th>Last runs</th>
            <th>Succeeded</th>
          </tr>
        </thead>
        <tbody>
          {pipelines.data.pipelines.map((pipeline) => (
            <tr key={pipeline.name}>
              <td>
                <Link to={`/pipelines/${pipeline.name}`}>{pipeline.name}</Link>
                {pipeline.description && <div className="muted">{pipeline.description}</div>}
              </td>
              <td>{pipeline.schedule ?? 'when triggered'}</td>
              <td>{pipeline.paused ? '—' : when(pipeline.nextRunAt)}</td>
              <td>
                <PauseSwitch
                  pipeline={pipeline}
                  enabled={can(me, 'operate')}
                  onChanged={() => client.invalidateQueries({ queryKey: PIPELINES_KEY })}
                />
              </td>
              <td>
                <RunSquares runs={pipeline.recentRuns} href={(id) => `/runs/${id}`} />
              </td>
              <td>
                {pipeline.recent.runs === 0
                  ? '—'
                  : `${Math.round((100 * pipeline.recent.succeeded) / pipeline.recent.runs)} % of ${pipeline.recent.runs}`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
