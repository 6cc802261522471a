/** Cancel a run, or clear its failed and cancelled tasks (all, or one): for operators and admins, each confirmed. */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { RunDetail, TaskView } from '../../../app/runs.js';
import { api } from '../../api/client.js';
import { can, useMe } from '../../auth.js';
import { ConfirmButton } from '../../components/ConfirmButton.js';

export const runKey = (id: string) => ['run', id] as const;

export const isActive = (state: RunDetail['run']['state']): boolean =>
  state === 'queued' || state === 'running';

/** Clear runs only these again. */
export const isClearable = (task: TaskView): boolean => task.state === 'failed' || task.state === 'cancelled';

function useRunAction(runId: string, action: 'clear' | 'cancel') {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { tasks?: string[] }) =>
      api(`/api/runs/${encodeURIComponent(runId)}/${action}`, { method: 'POST', body }),
    // The run is queued again (clear) or stopping (cancel): read it anew, which resumes following it live.
    onSettled: () => client.invalidateQueries({ queryKey: runKey(runId) }),
  });
}

function ActionError({ error }: { error: Error | null }) {
  return error ? (
    <p role="alert" className="error">
      {error.message}
    </p>
  ) : null;
}

export function RunActions({ detail }: { detail: RunDetail }) {
  const { data: me } = useMe();
  const { run, tasks } = detail;
  const cancel = useRunAction(run.id, 'cancel');
  const clear = useRunAction(run.id, 'clear');
  if (!can(me, 'operate')) return null;
  const clearable = tasks.filter(isClearable).length;
  return (
    <div className="run-actions">
      {isActive(run.state) && (
        <ConfirmButton
          label="Cancel run"
          question={`Stop run ${run.id}? Its running tries stop at their next heartbeat, the others never start.`}
          confirm="Stop the run"
          disabled={cancel.isPending || run.stop !== null}
          onConfirm={() => cancel.mutate({})}
        />
      )}
      {clearable > 0 && (
        <ConfirmButton
          label="Clear failed tasks"
          question={`Run the ${clearable} failed or cancelled task(s) of ${run.id} again, with those they held back?`}
          confirm="Clear them"
          disabled={clear.isPending}
          onConfirm={() => clear.mutate({})}
        />
      )}
      <ActionError error={cancel.error ?? clear.error} />
    </div>
  );
}

/** Clears one task (and what it held back). */
export function ClearTask({ runId, task }: { runId: string; task: TaskView }) {
  const { data: me } = useMe();
  const clear = useRunAction(runId, 'clear');
  if (!can(me, 'operate') || !isClearable(task)) return null;
  return (
    <>
      <ConfirmButton
        label={`Clear ${task.taskId}`}
        question={`Run ${task.taskId} of ${runId} again, with the tasks it held back?`}
        confirm="Clear it"
        disabled={clear.isPending}
        onConfirm={() => clear.mutate({ tasks: [task.taskId] })}
      />
      <ActionError error={clear.error} />
    </>
  );
}
