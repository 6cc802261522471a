/**
 * The last runs × the pipeline's tasks, as Airflow's grid: a column per run (oldest on the left) under a bar as tall
 * as the run was long, a row per task in plan order, each cell a link to that task in the run.
 */
import { Link } from 'react-router';
import { when } from '../../components/states.js';
import type { Grid, GridRun } from './queries.js';

/** Bars range from this height (an instant run) to this plus SPAN (the longest run shown). */
const BAR_MIN_PX = 6;
const BAR_SPAN_PX = 34;

function lengthMs(run: GridRun, now: number): number {
  if (!run.startedAt) return 0;
  return (run.finishedAt ? Date.parse(run.finishedAt) : now) - Date.parse(run.startedAt);
}

function describe(run: GridRun): string {
  return `${run.id}: ${run.state.replace('_', ' ')}, ${run.trigger}, logical date ${when(run.logicalDate)}`;
}

export function RunGrid({
  grid,
  selected,
  onSelect,
}: {
  grid: Grid;
  selected: string | undefined;
  onSelect: (runId: string) => void;
}) {
  if (grid.runs.length === 0) return <p className="empty">No runs yet.</p>;
  const now = Date.now();
  const longest = Math.max(1, ...grid.runs.map((run) => lengthMs(run, now)));
  const column = (run: GridRun) => (run.id === selected ? 'selected' : undefined);
  return (
    // Focusable so that a keyboard can scroll a wide grid.
    <div className="run-grid" role="region" aria-label="Runs by task" tabIndex={0}>
      <table>
        <thead>
          <tr>
            <th scope="col" className="task-name">
              <span className="visually-hidden">Task</span>
            </th>
            {grid.runs.map((run) => (
              <th key={run.id} scope="col" className={column(run)}>
                <button
                  type="button"
                  className={`run-bar state-${run.state}`}
                  style={{ height: BAR_MIN_PX + (BAR_SPAN_PX * lengthMs(run, now)) / longest }}
                  aria-pressed={run.id === selected}
                  aria-label={`Select run ${describe(run)}`}
                  title={describe(run)}
                  onClick={() => onSelect(run.id)}
                />
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {grid.tasks.map((task) => (
            <tr key={task}>
              <th scope="row" className="task-name" title={task}>
                {task}
              </th>
              {grid.runs.map((run) => {
                const state = run.cells[task];
                return (
                  <td key={run.id} className={column(run)}>
                    {state ? (
                      <Link
                        to={`/runs/${run.id}?task=${encodeURIComponent(task)}`}
                        className={`cell state-${state}`}
                        aria-label={`${task} in ${run.id}: ${state.replace('_', ' ')}`}
                        title={`${task}: ${state.replace('_', ' ')} (${run.id})`}
                      />
                    ) : (
                      <span className="cell absent" title={`${run.id} has no task ${task}`} />
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
