/**
 * Restoring a table to one of its versions, for operators: asked once more before it is done, since it makes a new
 * version; then what the next run will rebuild.
 */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { RestoreResult } from '../../../app/table-restore.js';
import { api } from '../../api/client.js';
import { apiPath, tablePath, useLakeState } from './state.js';

export function RestoreButton({ layer, table, version }: { layer: string; table: string; version: number }) {
  const { state } = useLakeState();
  const client = useQueryClient();
  const [asking, setAsking] = useState(false);
  const restore = useMutation({
    mutationFn: () =>
      api<RestoreResult>(apiPath(tablePath({ layer, table }, '/restore'), { lake: state.lake }), {
        method: 'POST',
        body: { version },
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['lake'] }),
  });
  if (restore.data) {
    const { staleReaders } = restore.data;
    return (
      <span role="status">
        restored as version {restore.data.version}
        {staleReaders.length > 0 && (
          <span className="muted"> · the next run rebuilds {staleReaders.join(', ')}</span>
        )}
      </span>
    );
  }
  if (!asking) {
    return (
      <button type="button" onClick={() => setAsking(true)} aria-label={`Restore version ${version}`}>
        restore
      </button>
    );
  }
  return (
    <span role="group" aria-label={`Restore version ${version}?`}>
      <button type="button" className="primary" disabled={restore.isPending} onClick={() => restore.mutate()}>
        Restore version {version} as a new version
      </button>{' '}
      <button type="button" disabled={restore.isPending} onClick={() => setAsking(false)}>
        Cancel
      </button>
      {restore.error && (
        <span role="alert" className="error">
          {' '}
          {restore.error.message}
        </span>
      )}
    </span>
  );
}
