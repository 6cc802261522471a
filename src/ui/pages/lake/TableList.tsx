/**
 * The tables of the lake (or of one layer): version, rows, size, last commit and the run that made it, marked stale
 * when a table they read changed since.
 */
import { Link } from 'react-router';
import type { TableListing } from '../../../app/tables.js';
import { when } from '../../components/states.js';
import { bytes, count } from '../../components/format.js';
import { useLakeState } from './state.js';

export function TableList({ listing, layer }: { listing: TableListing; layer?: string }) {
  const { link } = useLakeState();
  const tables = listing.tables.filter((table) => layer === undefined || table.layer === layer);
  const unreadable = listing.unreadable.filter((table) => layer === undefined || table.layer === layer);
  return (
    <>
      {tables.length === 0 ? (
        <p className="empty">No tables here yet: a run makes them.</p>
      ) : (
        <table className="list" aria-label="Tables">
          <thead>
            <tr>
              <th>Table</th>
              {layer === undefined && <th>Layer</th>}
              <th className="number">Version</th>
              <th className="number">Rows</th>
              <th className="number">Size</th>
              <th>Last commit (UTC)</th>
              <th>Run</th>
              <th>Partitioned by</th>
            </tr>
          </thead>
          <tbody>
            {tables.map((table) => (
              <tr key={`${table.layer}.${table.table}`}>
                <td>
                  <Link to={link({ layer: table.layer, table: table.table })}>{table.table}</Link>
                  {table.staleInputs.length > 0 && (
                    <>
                      {' '}
                      <span
                        className="state state-stale"
                        title={`${table.staleInputs.join(', ')} changed since: the next run rebuilds it`}
                      >
                        stale
                      </span>
                    </>
                  )}
                </td>
                {layer === undefined && <td>{table.layer}</td>}
                <td className="number">{table.version}</td>
                <td className="number">{count(table.rows)}</td>
                <td className="number">{bytes(table.bytes)}</td>
                <td className="nowrap">{when(table.committedAt)}</td>
                <td>{table.runId ? <Link to={`/runs/${table.runId}`}>{table.runId}</Link> : '—'}</td>
                <td>{table.partitionColumns.join(', ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {unreadable.length > 0 && (
        <div role="alert" className="error">
          <h2>Tables that cannot be read</h2>
          <ul>
            {unreadable.map((table) => (
              <li key={`${table.layer}.${table.table}`}>
                {table.layer}.{table.table}: {table.error}
              </li>
            ))}
          </ul>
        </div>
      )}
    </>
  );
}
