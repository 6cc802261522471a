/**
 * Connections (admins): the named S3 connections, each tested or removed in place, and a form that adds or replaces
 * one. A secret goes to the server once and never comes back: the list shows the access key id masked, and the form
 * never holds a saved secret.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { ConnectionView } from '../../app/connections.js';
import { api } from '../api/client.js';
import { ConfirmButton } from '../components/ConfirmButton.js';
import { Problem } from '../components/Problem.js';
import { when } from '../components/states.js';
import '../components/forms.css';

const CONNECTIONS_KEY = ['connections'] as const;
const ACCESS_KEY_FIELD = 'connection-access-key-id';

interface Draft {
  name: string;
  endpoint: string;
  region: string;
  pathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
}

const EMPTY: Draft = {
  name: '',
  endpoint: '',
  region: 'us-east-1',
  pathStyle: true,
  accessKeyId: '',
  secretAccessKey: '',
};

function TestButton({ name }: { name: string }) {
  const test = useMutation({
    mutationFn: () =>
      api<{ ok: boolean; detail: string }>(`/api/connections/${name}/test`, { method: 'POST', body: {} }),
  });
  return (
    <>
      <button type="button" onClick={() => test.mutate()} disabled={test.isPending}>
        {test.isPending ? 'Testing…' : 'Test'}
      </button>
      <span role="status" aria-label={`test of ${name}`} className="test-result">
        {test.data &&
          (test.data.ok ? (
            <span className="ok">✔ works: {test.data.detail}</span>
          ) : (
            <span className="error">✘ fails: {test.data.detail}</span>
          ))}
      </span>
      <Problem error={test.error} />
    </>
  );
}

function ConnectionRow({ connection, onEdit }: { connection: ConnectionView; onEdit: () => void }) {
  const client = useQueryClient();
  const remove = useMutation({
    mutationFn: () => api(`/api/connections/${connection.name}`, { method: 'DELETE' }),
    onSuccess: () => client.invalidateQueries({ queryKey: CONNECTIONS_KEY }),
  });
  return (
    <tr>
      <td>{connection.name}</td>
      <td>{connection.endpoint ?? 'AWS'}</td>
      <td>{connection.region ?? '—'}</td>
      <td>{connection.forcePathStyle ? 'path' : 'virtual host'}</td>
      <td className="mono">{connection.accessKeyId ?? '—'}</td>
      <td>{when(connection.updatedAt)}</td>
      <td className="actions">
        <TestButton name={connection.name} />
        <button type="button" onClick={onEdit} aria-label={`Replace ${connection.name}`}>
          Replace
        </button>
        <ConfirmButton
          label="Remove"
          question={`Remove connection ${connection.name}?`}
          onConfirm={() => remove.mutate()}
          disabled={remove.isPending}
        />
        <Problem error={remove.error} />
      </td>
    </tr>
  );
}

function ConnectionForm({ draft, setDraft }: { draft: Draft; setDraft: (draft: Draft) => void }) {
  const client = useQueryClient();
  const save = useMutation({
    mutationFn: (input: Draft) =>
      api<{ replaced: boolean }>(`/api/connections/${encodeURIComponent(input.name)}`, {
        method: 'PUT',
        body: {
          ...(input.endpoint.trim() !== '' && { endpoint: input.endpoint.trim() }),
          region: input.region,
          pathStyle: input.pathStyle,
          accessKeyId: input.accessKeyId,
          secretAccessKey: input.secretAccessKey,
        },
      }),
    onSuccess: () => {
      // The secret leaves the page with the request.
      setDraft(EMPTY);
      return client.invalidateQueries({ queryKey: CONNECTIONS_KEY });
    },
  });
  const field = (key: Exclude<keyof Draft, 'pathStyle'>) => ({
    value: draft[key],
    onChange: (event: { target: { value: string } }) => setDraft({ ...draft, [key]: event.target.value }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(draft);
  };
  return (
    <form className="form-grid" onSubmit={submit} aria-labelledby="connection-form">
      <h2 id="connection-form">Add or replace a connection</h2>
      <label>
        Name
        <input {...field('name')} required placeholder="minio-local" />
      </label>
      <label>
        Endpoint
        <input {...field('endpoint')} type="url" placeholder="http://127.0.0.1:9000 (empty: AWS)" />
      </label>
      <label>
        Region
        <input {...field('region')} required />
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={draft.pathStyle}
          onChange={(event) => setDraft({ ...draft, pathStyle: event.target.checked })}
        />
        Path-style addressing (MinIO and most S3-compatible servers)
      </label>
      <label>
        Access key id
        <input {...field('accessKeyId')} id={ACCESS_KEY_FIELD} required autoComplete="off" />
      </label>
      <label>
        Secret access key
        <input {...field('secretAccessKey')} type="password" required autoComplete="new-password" />
      </label>
      <p className="muted">
        The secret is encrypted at rest and never shown again; to change anything, give it again.
      </p>
      <div className="form-actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          Save connection
        </button>
        {save.data && <span role="status">{save.data.replaced ? 'Replaced.' : 'Added.'}</span>}
      </div>
      <Problem error={save.error} />
    </form>
  );
}

export function ConnectionsPage() {
  const connections = useQuery({
    queryKey: CONNECTIONS_KEY,
    queryFn: () => api<{ connections: ConnectionView[] }>('/api/connections'),
  });
  const [draft, setDraft] = useState<Draft>(EMPTY);
  return (
    <section className="admin">
      <h1>Connections</h1>
      {connections.isPending && <p className="loading">Loading connections…</p>}
      <Problem error={connections.error} />
      {connections.data &&
        (connections.data.connections.length === 0 ? (
          <p className="empty">No connection yet. Lakes and sources name one as s3://NAME@bucket/prefix.</p>
        ) : (
          <table className="list">
            <thead>
              <tr>
                <th>Name</th>
                <th>Endpoint</th>
                <th>Region</th>
                <th>Addressing</th>
                <th>Access key id</th>
                <th>Updated</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {connections.data.connections.map((connection) => (
                <ConnectionRow
                  key={connection.name}
                  connection={connection}
                  onEdit={() => {
                    setDraft({
                      ...EMPTY,
                      name: connection.name,
                      endpoint: connection.endpoint ?? '',
                      region: connection.region ?? EMPTY.region,
                      pathStyle: connection.forcePathStyle ?? EMPTY.pathStyle,
                    });
                    // The keys are all that is left to give: the form waits there.
                    document.getElementById(ACCESS_KEY_FIELD)?.focus();
                  }}
                />
              ))}
            </tbody>
          </table>
        ))}
      <ConnectionForm draft={draft} setDraft={setDraft} />
    </section>
  );
}
