/** Run and task states as colours and words, the same everywhere. */
import type { RunState, TaskState } from '../../core/run-state.js';

export type AnyState = RunState | TaskState;

export function StateBadge({ state }: { state: AnyState }) {
  return <span className={`state state-${state}`}>{state.replace('_', ' ')}</span>;
}

/** A small square per run, oldest on the left, as Airflow's grid draws them. */
export function RunSquares({
  runs,
  href,
}: {
  runs: { id: string; state: RunState; logicalDate: string }[];
  href: (id: string) => string;
}) {
  return (
    <span className="squares" aria-label="last runs">
      {[...runs].reverse().map((run) => (
        <a
          key={run.id}
          href={href(run.id)}
          className={`square state-${run.state}`}
          title={`${run.id}: ${run.state} (logical date ${run.logicalDate.slice(0, 16).replace('T', ' ')})`}
        >
          <span className="visually-hidden">{run.state}</span>
        </a>
      ))}
    </span>
  );
}

/** `2026-11-29 17:35` in UTC, as the CLI shows times. */
export function when(iso: string | null): string {
  return iso ? `${iso.slice(0, 16).replace('T', ' ')}` : '—';
}

export function duration(startedAt: string | null, finishedAt: string | null): string {
  if (!startedAt) return '—';
  return span((finishedAt ? Date.parse(finishedAt) : Date.now()) - Date.parse(startedAt));
}

/** Milliseconds as people read them: `0.52 s`, `14.2 s`, `3 min`. */
export function span(ms: number): string {
  return ms < 10_000
    ? `${(ms / 1000).toFixed(2)} s`
    : ms < 120_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.round(ms / 60_000)} min`;
}
