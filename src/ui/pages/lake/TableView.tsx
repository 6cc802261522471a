/** One table: which version, what made it, downloads, and its rows, schema, history and comparisons as tabs. */
import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { Link } from 'react-router';
import type { TableDetail } from '../../../app/tables.js';
import { api } from '../../api/client.js';
import { when } from '../../components/states.js';
import { CompareView } from './CompareView.js';
import { bytes, count, plural } from '../../components/format.js';
import { NotYet } from './format.js';
import { HistoryView } from './HistoryView.js';
import { RowsView } from './RowsView.js';
import { SchemaView } from './SchemaView.js';
import { apiPath, TABLE_TABS, tablePath, useLakeState, type TableTab } from './state.js';

const TAB_NAMES: Record<TableTab, string> = {
  rows: 'Rows',
  schema: 'Schema',
  history: 'History',
  compare: 'Compare versions',
};

export function TableView({ layer, table }: { layer: string; table: string }) {
  const { state, link, go } = useLakeState();
  const versionId = useId();
  const tab: TableTab = (TABLE_TABS as readonly string[]).includes(state.tab ?? '')
    ? (state.tab as TableTab)
    : 'rows';
  const detail = useQuery({
    queryKey: ['lake', 'table', state.lake, layer, table, state.version],
    queryFn: () =>
      api<TableDetail>(apiPath(tablePath({ layer, table }), { lake: state.lake, version: state.version })),
    refetchInterval: 10_000,
  });
  if (detail.error || !detail.data) return <NotYet query={detail} what={table} />;
  const info = detail.data;
  const download = (format: 'csv' | 'parquet') =>
    apiPath(tablePath(info, '/download'), { lake: state.lake, version: info.version, format });
  return (
    <section className="table-view">
      <header className="table-head">
        <h1>
          {layer}.{table}
        </h1>
        <label htmlFor={versionId}>Version</label>
        <select
          id={versionId}
          value={state.version ?? ''}
          onChange={(event) => go({ version: event.target.value === '' ? undefined : event.target.value })}
        >
          <option value="">latest ({info.latestVersion})</option>
          {[...info.versions].reverse().map((version) => (
            <option key={version} value={version}>
              {version}
            </option>
          ))}
        </select>
        <a className="button" href={download('csv')} download>
          Download CSV
        </a>
        <a className="button" href={download('parquet')} download>
          Download Parquet
        </a>
      </header>
      <p className="muted">
        Version {info.version}: {count(info.rows)} rows, {bytes(info.bytes)} in {plural(info.files, 'file')},
        committed {when(info.committedAt)} UTC
        {info.runId && (
          <>
            {' '}
            by run <Link to={`/runs/${info.runId}`}>{info.runId}</Link>
            {info.task && ` (${info.task})`}
          </>
        )}
        {info.partitionColumns.length > 0 && `; partitioned by ${info.partitionColumns.join(', ')}`}
      </p>
      <nav className="tabs" aria-label="Table views">
        {TABLE_TABS.map((name) => (
          <Link key={name} to={link({ tab: name })} aria-current={name === tab ? 'page' : undefined}>
            {TAB_NAMES[name]}
          </Link>
        ))}
      </nav>
      {tab === 'rows' && <RowsView layer={layer} table={table} />}
      {tab === 'schema' && <SchemaView detail={info} />}
      {tab === 'history' && <HistoryView layer={layer} table={table} />}
      {tab === 'compare' && <CompareView detail={info} />}
    </section>
  );
}
