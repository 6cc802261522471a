/** The difference between two versions of a table: rows added and removed, counted, and a sample of each. */
import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import type { VersionDiff } from '../../../app/table-diff.js';
import type { TableDetail } from '../../../app/tables.js';
import { api } from '../../api/client.js';
import { plural } from '../../components/format.js';
import { NotYet } from './format.js';
import { RowsGrid } from './RowsView.js';
import { apiPath, tablePath, useLakeState } from './state.js';

function VersionSelect({
  label,
  value,
  versions,
  onChange,
}: {
  label: string;
  value: number;
  versions: number[];
  onChange(version: number): void;
}) {
  const id = useId();
  return (
    <span>
      <label htmlFor={id}>{label}</label>{' '}
      <select id={id} value={value} onChange={(event) => onChange(Number(event.target.value))}>
        {versions.map((version) => (
          <option key={version} value={version}>
            {version}
          </option>
        ))}
      </select>
    </span>
  );
}

export function CompareView({ detail }: { detail: TableDetail }) {
  const { state, go } = useLakeState();
  const versions = [...detail.versions].reverse();
  const to = state.to ?? detail.latestVersion;
  const from = state.from ?? versions.find((version) => version < to) ?? to;
  const diff = useQuery({
    queryKey: ['lake', 'diff', state.lake, detail.layer, detail.table, from, to],
    queryFn: () => api<VersionDiff>(apiPath(tablePath(detail, '/diff'), { lake: state.lake, from, to })),
    enabled: versions.length > 1,
  });
  if (versions.length < 2)
    return <p className="empty">This table has one version so far: nothing to compare.</p>;
  return (
    <section aria-label="Compare versions">
      <div className="compare-choice">
        <VersionSelect
          label="From version"
          value={from}
          versions={versions}
          onChange={(version) => go({ from: version, to })}
        />
        <VersionSelect
          label="To version"
          value={to}
          versions={versions}
          onChange={(version) => go({ from, to: version })}
        />
      </div>
      {diff.error || !diff.data ? (
        <NotYet query={diff} what="the difference" />
      ) : (
        <DiffResult diff={diff.data} />
      )}
    </section>
  );
}

function DiffResult({ diff }: { diff: VersionDiff }) {
  const { added, removed } = diff.schemaChanges;
  return (
    <>
      <p className="diff-counts" role="status">
        From version {diff.from} to {diff.to}:{' '}
        <strong className="added">{plural(diff.added.rows, 'row')} added</strong>,{' '}
        <strong className="removed">{plural(diff.removed.rows, 'row')} removed</strong>
        {diff.added.rows === 0 && diff.removed.rows === 0 && ' (the same rows)'}
      </p>
      {(added.length > 0 || removed.length > 0) && (
        <p className="muted">
          {added.length > 0 && `Columns added: ${added.join(', ')}. `}
          {removed.length > 0 && `Columns removed: ${removed.join(', ')}. `}
          Rows are compared on the columns both versions have.
        </p>
      )}
      {diff.added.rows > 0 && (
        <>
          <h2>
            Added{diff.added.rows > diff.added.sample.length && ` (a sample of ${diff.added.sample.length})`}
          </h2>
          <RowsGrid columns={diff.columns} rows={diff.added.sample} label="Rows added" />
        </>
      )}
      {diff.removed.rows > 0 && (
        <>
          <h2>
            Removed
            {diff.removed.rows > diff.removed.sample.length && ` (a sample of ${diff.removed.sample.length})`}
          </h2>
          <RowsGrid columns={diff.columns} rows={diff.removed.sample} label="Rows removed" />
        </>
      )}
    </>
  );
}
