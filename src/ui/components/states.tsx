/** Run and task states as colours and words, the same everywhere. */
import type { RunState, TaskState } from '../../core/run-state.js';
import type { Liveness } from '../../orchestrator/liveness.js';

/** A run's or a task's state, or whether a process is alive (coloured like the run states it resembles). */
export type AnyState = RunState | TaskState | Liveness;

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

/** `2026-11-29 17:35:12 UTC`: an instant to the second, for a title beside a rounded one. */
export function exactly(iso: string): string {
  return `${iso.slice(0, 19).replace('T', ' ')} UTC`;
}

/** How long ago, roughly: `12 s ago`, `3 min ago`, `5 h ago`, `2 d ago`. */
export function ago(iso: string, now: number): string {
  const ms = Math.max(0, now - Date.parse(iso));
  const [value, unit] =
    ms < 90_000
      ? [ms / 1000, 's']
      : ms < 90 * 60_000
        ? [ms / 60_000, 'min']
        : ms < 36 * 3_600_000
          ? [ms / 3_600_000, 'h']
          : [ms / 86_400_000, 'd'];
  return `${Math.round(value)} ${unit} ago`;
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
