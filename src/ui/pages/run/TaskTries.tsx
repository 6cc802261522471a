/** Each task of the run with every try it made: how it ended, its metrics and why; choosing one shows its log. */
import type { TaskView } from '../../../app/runs.js';
import type { AttemptRecord } from '../../../metadata/metadata-store.js';
import { span, StateBadge } from '../../components/states.js';
import { bytes, figure } from '../../components/format.js';
import { tryOutcome } from './gantt-model.js';

export interface Selection {
  task: string | undefined;
  attempt: number | undefined;
}

function Metrics({ attempt }: { attempt: AttemptRecord | null }) {
  const metrics = attempt?.metrics;
  const cells = [
    metrics ? span(metrics.durationMs) : '—',
    metrics?.cpuMs === undefined ? '—' : span(metrics.cpuMs),
    bytes(metrics?.peakRssBytes),
    figure(metrics?.rowsIn),
    figure(metrics?.rowsOut),
    figure(metrics?.rowsQuarantined),
    bytes(metrics?.bytesRead),
    bytes(metrics?.bytesWritten),
  ];
  return cells.map((cell, index) => (
    <td key={index} className="number">
      {cell}
    </td>
  ));
}

/** The queue of tasks that name none: not worth saying. */
const DEFAULT_QUEUE = 'default';

/** A queued task that waits for a queue no live worker serves; why (and what to start) as its title. */
export function QueueWait({ task }: { task: TaskView }) {
  if (!task.waitingForQueue) return null;
  return (
    <span className="queue-wait" title={task.reason}>
      waiting for queue {task.waitingForQueue}
    </span>
  );
}

/** The task's queue, when it is not the default one: which workers may run it. */
export function TaskQueue({ task }: { task: TaskView }) {
  if (task.queue === DEFAULT_QUEUE && !task.waitingForQueue) return null;
  return (
    <p className="task-queue">
      Queue <code>{task.queue}</code> <QueueWait task={task} />
    </p>
  );
}

/** A long reason (a whole error with its hint) folds after its start; opening it shows the rest. */
function Reason({ text }: { text: string }) {
  if (text.length <= 160) return text;
  return (
    <details>
      <summary>{text.slice(0, 140)}…</summary>
      {text.slice(140)}
    </details>
  );
}

function TaskRows({
  task,
  selection,
  onSelect,
}: {
  task: TaskView;
  selection: Selection;
  onSelect: (task: string, attempt: number | null) => void;
}) {
  const chosen = selection.task === task.taskId;
  const tries: (AttemptRecord | null)[] = task.attempts.length > 0 ? task.attempts : [null];
  return tries.map((attempt, index) => (
    <tr key={attempt?.attempt ?? 0} className={chosen ? 'chosen' : undefined}>
      {index === 0 && (
        <>
          <td rowSpan={tries.length}>
            <button
              type="button"
              className="link"
              aria-pressed={chosen}
              onClick={() => onSelect(task.taskId, null)}
            >
              {task.taskId}
            </button>
          </td>
          <td rowSpan={tries.length}>
            <StateBadge state={task.state} /> <QueueWait task={task} />
          </td>
        </>
      )}
      <td className="try">
        {attempt ? (
          <button
            type="button"
            className="link"
            aria-label={`${task.taskId} try ${attempt.attempt}`}
            aria-pressed={chosen && selection.attempt === attempt.attempt}
            onClick={() => onSelect(task.taskId, attempt.attempt)}
          >
            {attempt.attempt} <StateBadge state={tryOutcome(task, attempt)} />
          </button>
        ) : (
          '—'
        )}
      </td>
      <Metrics attempt={attempt} />
      <td className="reason">
        <Reason text={attempt ? (attempt.reason ?? '') : task.reason} />
      </td>
    </tr>
  ));
}

export function TaskTries({
  tasks,
  selection,
  onSelect,
}: {
  tasks: TaskView[];
  selection: Selection;
  onSelect: (task: string, attempt: number | null) => void;
}) {
  return (
    <table className="list run-tries">
      <thead>
        <tr>
          <th>Task</th>
          <th>State</th>
          <th>Try</th>
          <th className="number">Duration</th>
          <th className="number">CPU</th>
          <th className="number">Peak RSS</th>
          <th className="number">Rows in</th>
          <th className="number">Rows out</th>
          <th className="number">Quarantined</th>
          <th className="number">Read</th>
          <th className="number">Written</th>
          <th>Reason</th>
        </tr>
      </thead>
      <tbody>
        {tasks.map((task) => (
          <TaskRows key={task.taskId} task={task} selection={selection} onSelect={onSelect} />
        ))}
      </tbody>
    </table>
  );
}
