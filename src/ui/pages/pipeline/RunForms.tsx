/** Trigger a run, backfill a schedule's intervals: forms built from the pipeline's declared parameters. */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import type { PipelineDetail } from '../../../app/pipelines.js';
import type { RunRecord } from '../../../metadata/metadata-store.js';
import { api } from '../../api/client.js';
import {
  errorFor,
  FormError,
  givenParams,
  initialInputs,
  InstantField,
  ParamFields,
  paramFields,
  utcInstant,
  type ParamInputs,
} from './fields.js';
import { pipelineApi, pipelineKey } from './queries.js';

/** What both forms share: the parameters and force, and the request that refreshes the page when it is done. */
function useRunForm<T>(
  pipeline: PipelineDetail,
  send: (body: { params: Record<string, string>; force: boolean }) => Promise<T>,
  onDone: (answer: T) => void = () => {},
) {
  const client = useQueryClient();
  const [inputs, setInputs] = useState<ParamInputs>(() => initialInputs(pipeline.params));
  const [force, setForce] = useState(false);
  const mutation = useMutation({
    mutationFn: () => send({ params: givenParams(inputs), force }),
    onSuccess: (answer) => {
      onDone(answer);
      return client.invalidateQueries({ queryKey: pipelineKey(pipeline.name) });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate();
  };
  return { inputs, setInputs, force, setForce, mutation, submit };
}

interface RunFormState {
  inputs: ParamInputs;
  setInputs: (inputs: ParamInputs) => void;
  force: boolean;
  setForce: (force: boolean) => void;
  mutation: { error: Error | null; isPending: boolean };
}

/** How both forms end: the parameters, force, an error none of the form's fields shows, the button. */
function CommonFields({
  idPrefix,
  pipeline,
  form,
  ownFields,
  action,
}: {
  idPrefix: string;
  pipeline: PipelineDetail;
  form: RunFormState;
  /** The form's other fields, as the server names them in errors. */
  ownFields: string[];
  action: string;
}) {
  const { error, isPending } = form.mutation;
  return (
    <>
      <ParamFields
        idPrefix={idPrefix}
        params={pipeline.params}
        inputs={form.inputs}
        onChange={form.setInputs}
        error={error}
      />
      <label className="check">
        <input
          type="checkbox"
          checked={form.force}
          onChange={(event) => form.setForce(event.target.checked)}
        />
        Force: run tasks even when their inputs have not changed
      </label>
      <FormError error={error} fields={[...paramFields(pipeline.params), ...ownFields]} />
      <button type="submit" className="primary" disabled={isPending}>
        {action}
      </button>
    </>
  );
}

export function TriggerForm({
  pipeline,
  onTriggered,
}: {
  pipeline: PipelineDetail;
  onTriggered: (runId: string) => void;
}) {
  const id = useId();
  const [logicalDate, setLogicalDate] = useState('');
  const form = useRunForm(
    pipeline,
    (body) =>
      api<RunRecord>(`${pipelineApi(pipeline.name)}/runs`, {
        method: 'POST',
        body: { ...body, ...(logicalDate && { logicalDate: utcInstant(logicalDate) }) },
      }),
    (run) => onTriggered(run.id),
  );
  const { mutation } = form;
  return (
    <form className="run-form" onSubmit={form.submit} noValidate aria-label="Trigger a run">
      <h2>Trigger a run</h2>
      <InstantField
        id={`${id}-logical-date`}
        label="Logical date"
        note="the instant the run stands for; empty: now"
        error={errorFor(mutation.error, 'logicalDate')}
        value={logicalDate}
        onChange={setLogicalDate}
      />
      <CommonFields
        idPrefix={id}
        pipeline={pipeline}
        form={form}
        ownFields={['logicalDate']}
        action="Trigger run"
      />
      {mutation.data && (
        <p role="status">
          Queued <Link to={`/runs/${mutation.data.id}`}>{mutation.data.id}</Link>
        </p>
      )}
    </form>
  );
}

type Backfilled = { runs: { run: RunRecord; created: boolean }[] };

export function BackfillForm({ pipeline }: { pipeline: PipelineDetail }) {
  const id = useId();
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const form = useRunForm(pipeline, (body) =>
    api<Backfilled>(`${pipelineApi(pipeline.name)}/backfills`, {
      method: 'POST',
      body: { ...body, from: utcInstant(from), to: utcInstant(to) },
    }),
  );
  const { mutation } = form;
  if (!pipeline.schedule) return <p className="muted">Not scheduled: there are no intervals to backfill.</p>;
  const created = mutation.data?.runs.filter((run) => run.created).length ?? 0;
  return (
    // Rarely needed: folded until asked for.
    <details className="run-form">
      <summary>Backfill</summary>
      <form onSubmit={form.submit} noValidate aria-label="Backfill">
        <p className="muted">A run for every interval of the schedule that starts between these instants.</p>
        <InstantField
          id={`${id}-from`}
          label="From"
          error={errorFor(mutation.error, 'from')}
          value={from}
          onChange={setFrom}
        />
        <InstantField
          id={`${id}-to`}
          label="To"
          error={errorFor(mutation.error, 'to')}
          value={to}
          onChange={setTo}
        />
        <CommonFields
          idPrefix={id}
          pipeline={pipeline}
          form={form}
          ownFields={['from', 'to']}
          action="Backfill"
        />
        {mutation.data && (
          <p role="status">
            {created} {created === 1 ? 'run' : 'runs'} created, {mutation.data.runs.length - created} already
            existed
          </p>
        )}
      </form>
    </details>
  );
}
