/**
 * One pipeline: the grid of its last runs × its tasks (live while a run goes), its task graph and table lineage
 * coloured by the selected run, its schedule and locations, and for operators the paused switch, trigger and backfill.
 * The URL keeps the selected run (`run`), the graph shown (`view`) and how many runs the grid shows (`runs`).
 */
import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import type { PipelineDetail } from '../../app/pipelines.js';
import { can, useMe } from '../auth.js';
import { PauseSwitch } from '../components/PauseSwitch.js';
import { duration, StateBadge, when } from '../components/states.js';
import { GRAPH_VIEWS, graphModel, type GraphView } from './pipeline/graph-model.js';
import { pipelineKey, useGrid, usePipeline, useRunStates, type GridRun } from './pipeline/queries.js';
import { RunGrid } from './pipeline/RunGrid.js';
import { BackfillForm, TriggerForm } from './pipeline/RunForms.js';
import { PIPELINES_KEY } from './PipelinesPage.js';
import './PipelinePage.css';

const PipelineGraph = lazy(() =>
  import('./pipeline/PipelineGraph.js').then((module) => ({ default: module.PipelineGraph })),
);

const GRID_SIZES = [10, 25, 50, 100] as const;
const DEFAULT_GRID_SIZE = 25;

const VIEW_LABELS: Record<GraphView, string> = { tasks: 'Task graph', lineage: 'Table lineage' };

export function PipelinePage() {
  const { name = '' } = useParams();
  // Another pipeline is another page: its forms start afresh.
  return <PipelineView key={name} name={name} />;
}

function PipelineView({ name }: { name: string }) {
  const { data: me } = useMe();
  const [search, setSearch] = useSearchParams();
  const asked = Number(search.get('runs'));
  const limit = GRID_SIZES.find((size) => size === asked) ?? DEFAULT_GRID_SIZE;
  const view: GraphView = GRAPH_VIEWS.find((known) => known === search.get('view')) ?? 'tasks';
  const pipeline = usePipeline(name);
  const grid = useGrid(name, limit);
  const runs = grid.data?.runs ?? [];
  const selected = search.get('run') ?? runs.at(-1)?.id;
  const shown = runs.find((run) => run.id === selected);
  const older = useRunStates(selected, grid.isSuccess && !shown);
  const states = shown?.cells ?? older.data ?? {};
  const show = (key: string, value: string) =>
    setSearch((current) => {
      const next = new URLSearchParams(current);
      next.set(key, value);
      return next;
    });

  if (pipeline.isPending) return <p className="loading">Loading {name}…</p>;
  if (pipeline.error)
    return (
      <p role="alert" className="error">
        {pipeline.error.message}
      </p>
    );
  const detail = pipeline.data;
  const mayOperate = can(me, 'operate');
  return (
    <section className="pipeline-page">
      <PipelineFacts pipeline={detail} mayPause={mayOperate} />
      <div className={mayOperate ? 'pipeline-body with-actions' : 'pipeline-body'}>
        <div className="pipeline-runs">
          <div className="section-head">
            <h2>Runs</h2>
            <label>
              Show{' '}
              <select value={limit} onChange={(event) => show('runs', event.target.value)}>
                {GRID_SIZES.map((size) => (
                  <option key={size} value={size}>
                    {size}
                  </option>
                ))}
              </select>{' '}
              runs
            </label>
          </div>
          {grid.error ? (
            <p role="alert" className="error">
              {grid.error.message}
            </p>
          ) : grid.data ? (
            <RunGrid grid={grid.data} selected={selected} onSelect={(runId) => show('run', runId)} />
          ) : (
            <p className="loading">Loading the runs…</p>
          )}
          {selected && <SelectedRun id={selected} run={shown} error={older.error} />}
        </div>
        {mayOperate && (
          <aside className="pipeline-actions" aria-label="Actions">
            <TriggerForm pipeline={detail} onTriggered={(runId) => show('run', runId)} />
            <BackfillForm pipeline={detail} />
          </aside>
        )}
        <div className="pipeline-graphs">
          <div role="tablist" aria-label="Graphs" className="tabs">
            {GRAPH_VIEWS.map((known) => (
              <button
                key={known}
                type="button"
                role="tab"
                id={`tab-${known}`}
                aria-selected={known === view}
                aria-controls="graph-panel"
                onClick={() => show('view', known)}
              >
                {VIEW_LABELS[known]}
              </button>
            ))}
          </div>
          <div role="tabpanel" id="graph-panel" aria-labelledby={`tab-${view}`}>
            <Suspense fallback={<p className="loading">Loading the graph…</p>}>
              <PipelineGraph
                model={graphModel(detail, view, states)}
                runId={selected}
                label={`${VIEW_LABELS[view]} of ${detail.name}${selected ? `, coloured by run ${selected}` : ''}`}
              />
            </Suspense>
          </div>
        </div>
      </div>
    </section>
  );
}

function PipelineFacts({ pipeline, mayPause }: { pipeline: PipelineDetail; mayPause: boolean }) {
  const client = useQueryClient();
  const refresh = () =>
    Promise.all([
      client.invalidateQueries({ queryKey: pipelineKey(pipeline.name) }),
      client.invalidateQueries({ queryKey: PIPELINES_KEY }),
    ]);
  return (
    <header className="pipeline-head">
      <h1>{pipeline.name}</h1>
      {pipeline.description && <p className="muted">{pipeline.description}</p>}
      <dl className="facts">
        <div>
          <dt>Schedule</dt>
          <dd>{pipeline.schedule ?? 'when triggered'}</dd>
        </div>
        <div>
          <dt>Next run</dt>
          <dd>{pipeline.paused ? '— (paused)' : when(pipeline.nextRunAt)}</dd>
        </div>
        <div>
          <dt>State</dt>
          <dd>
            {mayPause ? (
              <PauseSwitch pipeline={pipeline} onChanged={refresh} />
            ) : pipeline.paused ? (
              'paused'
            ) : (
              'active'
            )}
          </dd>
        </div>
        <div>
          <dt>Lake</dt>
          <dd>
            <code>{pipeline.locations?.lake ?? '—'}</code>
          </dd>
        </div>
        {pipeline.locations?.source && (
          <div>
            <dt>Source</dt>
            <dd>
              <code>{pipeline.locations.source}</code>
            </dd>
          </div>
        )}
      </dl>
    </header>
  );
}

function SelectedRun({ id, run, error }: { id: string; run: GridRun | undefined; error: Error | null }) {
  if (error)
    return (
      <p role="alert" className="error selected-run">
        {error.message}
      </p>
    );
  return (
    <p className="selected-run">
      Graphs coloured by run <Link to={`/runs/${id}`}>{id}</Link>{' '}
      {run ? (
        <>
          <StateBadge state={run.state} /> {run.trigger}, logical date {when(run.logicalDate)}, ran{' '}
          {duration(run.startedAt, run.finishedAt)}
        </>
      ) : (
        <span className="muted">(older than the runs shown)</span>
      )}
    </p>
  );
}
