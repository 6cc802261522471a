/** A table's versions, newest first: when, what, which run, rows added and removed; a restore for operators. */
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import type { VersionEntry } from '../../../app/tables.js';
import { api } from '../../api/client.js';
import { can, useMe } from '../../auth.js';
import { when } from '../../components/states.js';
import { count } from '../../components/format.js';
import { NotYet } from './format.js';
import { RestoreButton } from './RestoreButton.js';
import { apiPath, tablePath, useLakeState } from './state.js';

/** The layers whose tables can be restored (the landing manifest and quarantine tables follow their runs). */
const RESTORABLE = ['bronze', 'silver', 'gold'];

export function HistoryView({ layer, table }: { layer: string; table: string }) {
  const { state, link } = useLakeState();
  const { data: me } = useMe();
  const mayRestore = can(me, 'operate') && RESTORABLE.includes(layer);
  const history = useQuery({
    queryKey: ['lake', 'history', state.lake, layer, table],
    queryFn: () =>
      api<{ versions: VersionEntry[] }>(
        apiPath(tablePath({ layer, table }, '/history'), { lake: state.lake }),
      ),
    refetchInterval: 10_000,
  });
  if (history.error || !history.data) return <NotYet query={history} what="history" />;
  const latest = history.data.versions[0]?.version;
  return (
    <table className="list" aria-label="History">
      <thead>
        <tr>
          <th className="number">Version</th>
          <th>Committed (UTC)</th>
          <th>Operation</th>
          <th>Run</th>
          <th>Task</th>
          <th className="number">Rows added</th>
          <th className="number">Rows removed</th>
          <th className="number">Files</th>
          <th />
          {mayRestore && <th />}
        </tr>
      </thead>
      <tbody>
        {history.data.versions.map((entry) => (
          <tr key={entry.version}>
            <td className="number">
              <Link to={link({ version: entry.version, tab: 'rows' })}>{entry.version}</Link>
            </td>
            <td className="nowrap">{when(entry.committedAt)}</td>
            <td>
              {entry.restoredVersion === null
                ? (entry.operation ?? '—')
                : `RESTORE of version ${entry.restoredVersion}`}
              {entry.mode && <span className="muted"> ({entry.mode})</span>}
            </td>
            <td>{entry.runId ? <Link to={`/runs/${entry.runId}`}>{entry.runId}</Link> : '—'}</td>
            <td>{entry.task ?? '—'}</td>
            <td className="number added">+{count(entry.rowsAdded)}</td>
            <td className="number removed">−{count(entry.rowsRemoved)}</td>
            <td className="number">
              +{entry.filesAdded} −{entry.filesRemoved}
            </td>
            <td>
              {entry.version > 0 && (
                <Link
                  to={link({ tab: 'compare', from: entry.version - 1, to: entry.version })}
                  aria-label={`Compare version ${entry.version} with ${entry.version - 1}`}
                >
                  compare with {entry.version - 1}
                </Link>
              )}
            </td>
            {mayRestore && (
              <td>
                {entry.version !== latest && (
                  <RestoreButton layer={layer} table={table} version={entry.version} />
                )}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
