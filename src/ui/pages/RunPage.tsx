/**
 * One run: what it is and how it went (its facts and summary, the Gantt of its tries, each task's tries with their
 * metrics, the tables it wrote), a task's log, and for operators clear and cancel. Followed live (SSE) while it is
 * queued or running. The chosen task, try and log search are in the URL: `?task=…&attempt=…&q=…`.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useParams, useSearchParams } from 'react-router';
import type { RunDetail, TaskView } from '../../app/runs.js';
import { api } from '../api/client.js';
import { useEventStream } from '../api/sse.js';
import { StateBadge } from '../components/states.js';
import { LogViewer } from './run/LogViewer.js';
import { ClearTask, isActive, isClearable, RunActions, runKey } from './run/RunActions.js';
import { RunFacts, RunTables } from './run/RunFacts.js';
import { RunGantt } from './run/RunGantt.js';
import { TaskQueue, TaskTries } from './run/TaskTries.js';
import './RunPage.css';

/** The run's detail, replaced by each one the server sends while the run goes. */
function useRun(id: string) {
  const client = useQueryClient();
  const query = useQuery({
    queryKey: runKey(id),
    queryFn: () => api<RunDetail>(`/api/runs/${encodeURIComponent(id)}`),
  });
  const live = query.data !== undefined && isActive(query.data.run.state);
  useEventStream(live ? `/api/runs/${encodeURIComponent(id)}/events` : undefined, {
    run: (data) => client.setQueryData(runKey(id), JSON.parse(data) as RunDetail),
  });
  return query;
}

/** The time, once a second while `ticking` (running tries grow to it). */
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}

/** The URL's choices, and how to change them (a search typed replaces the entry rather than adding one). */
function useChoices() {
  const [params, setParams] = useSearchParams();
  const change = (values: Record<string, string | null>, replace = false) =>
    setParams(
      (previous) => {
        const next = new URLSearchParams(previous);
        for (const [name, value] of Object.entries(values)) {
          if (value === null || value === '') next.delete(name);
          else next.set(name, value);
        }
        return next;
      },
      { replace },
    );
  return {
    task: params.get('task') ?? undefined,
    attempt: Number(params.get('attempt')) || undefined,
    query: params.get('q') ?? '',
    select: (task: string, attempt: number | null) =>
      change({ task, attempt: attempt === null ? null : String(attempt) }),
    setAttempt: (attempt: number) => change({ attempt: String(attempt) }),
    setQuery: (query: string) => change({ q: query }, true),
  };
}

function TaskLog({
  runId,
  task,
  attempt,
  choices,
}: {
  runId: string;
  task: TaskView;
  attempt: number | undefined;
  choices: ReturnType<typeof useChoices>;
}) {
  const shown = task.attempts.find((each) => each.attempt === attempt) ?? task.latestAttempt;
  return (
    <section aria-labelledby="run-log" className="run-log">
      <div className="run-log-heading">
        <h2 id="run-log">Log of {task.taskId}</h2>
        <ClearTask runId={runId} task={task} />
      </div>
      <TaskQueue task={task} />
      {shown ? (
        <LogViewer
          key={`${task.taskId}:${shown.attempt}`}
          runId={runId}
          task={task}
          attempt={shown}
          query={choices.query}
          onQuery={choices.setQuery}
          onAttempt={choices.setAttempt}
        />
      ) : (
        <p className="empty">
          It has not run{task.reason ? `: ${task.reason}` : ` (${task.state.replace('_', ' ')})`}.
        </p>
      )}
    </section>
  );
}

export function RunPage() {
  const { id = '' } = useParams();
  const run = useRun(id);
  const choices = useChoices();
  const now = useNow(run.data !== undefined && isActive(run.data.run.state));
  if (run.isPending) return <p className="loading">Loading run…</p>;
  if (run.error)
    return (
      <p role="alert" className="error">
        {run.error.message}
      </p>
    );
  const detail = run.data;
  // Without a choice, the first task that needs looking at.
  const taskId = choices.task ?? detail.tasks.find(isClearable)?.taskId;
  const task = detail.tasks.find((each) => each.taskId === taskId);
  return (
    <section className="run-page">
      <div className="run-heading">
        <h1>
          Run {detail.run.id} <StateBadge state={detail.run.state} />
        </h1>
        <RunActions detail={detail} />
      </div>
      <RunFacts run={detail.run} />
      <h2>Tries over time</h2>
      <RunGantt detail={detail} now={now} onSelect={choices.select} />
      <h2>Tasks</h2>
      <TaskTries
        tasks={detail.tasks}
        selection={{ task: taskId, attempt: choices.attempt }}
        onSelect={choices.select}
      />
      {task ? (
        <TaskLog runId={detail.run.id} task={task} attempt={choices.attempt} choices={choices} />
      ) : (
        <p className="empty">Choose a task to see its log.</p>
      )}
      <RunTables run={detail.run} />
    </section>
  );
}
