/** A pipeline's paused switch: on while schedulers create and start its runs; shown disabled to who may not pause. */
import { useMutation } from '@tanstack/react-query';
import { api } from '../api/client.js';

export function PauseSwitch({
  pipeline,
  onChanged,
  enabled = true,
}: {
  pipeline: { name: string; paused: boolean };
  /** Refreshes what shows the pipeline (the switch follows `pipeline.paused`). */
  onChanged: () => Promise<unknown>;
  enabled?: boolean;
}) {
  const toggle = useMutation({
    mutationFn: () =>
      api(`/api/pipelines/${encodeURIComponent(pipeline.name)}/${pipeline.paused ? 'unpause' : 'pause'}`, {
        method: 'POST',
        body: {},
      }),
    onSettled: onChanged,
  });
  return (
    <label className="switch">
      <input
        type="checkbox"
        role="switch"
        checked={!pipeline.paused}
        disabled={!enabled || toggle.isPending}
        onChange={() => toggle.mutate()}
        aria-label={`${pipeline.name} ${pipeline.paused ? 'paused' : 'active'}`}
      />
      {pipeline.paused ? 'paused' : 'active'}
      {toggle.error && (
        <span role="alert" className="error">
          {toggle.error.message}
        </span>
      )}
    </label>
  );
}
