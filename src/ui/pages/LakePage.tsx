/**
 * The lake: layers → tables (each with its schema, partitions, history, rows at any version, comparisons between
 * versions and downloads), and an object browser per layer. Everything it shows is named by the URL.
 */
import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { Link } from 'react-router';
import type { LakeInfo, TableListing } from '../../app/tables.js';
import { api } from '../api/client.js';
import { NotYet } from './lake/format.js';
import { ObjectBrowser } from './lake/ObjectBrowser.js';
import { apiPath, AREAS, useLakeState } from './lake/state.js';
import { TableList } from './lake/TableList.js';
import { TableView } from './lake/TableView.js';
import './LakePage.css';

function useTables(lake: string | undefined) {
  return useQuery({
    queryKey: ['lake', 'tables', lake],
    queryFn: () => api<TableListing>(apiPath('/api/lake/tables', { lake })),
    refetchInterval: 10_000,
  });
}

function LakeChoice({ lakes }: { lakes: LakeInfo[] }) {
  const { state, go } = useLakeState();
  const id = useId();
  if (lakes.length < 2) return null;
  return (
    <div className="lake-choice">
      <label htmlFor={id}>Lake</label>
      <select id={id} value={state.lake ?? '0'} onChange={(event) => go({ lake: event.target.value })}>
        {lakes.map((lake) => (
          <option key={lake.index} value={String(lake.index)}>
            {lake.location}
          </option>
        ))}
      </select>
    </div>
  );
}

function Layers({ listing }: { listing: TableListing | undefined }) {
  const { state, link } = useLakeState();
  const lakes = useQuery({
    queryKey: ['lake', 'lakes'],
    queryFn: () => api<{ lakes: LakeInfo[] }>('/api/lakes'),
  });
  return (
    <nav className="lake-nav" aria-label="Layers">
      <LakeChoice lakes={lakes.data?.lakes ?? []} />
      <Link to={link({ layer: undefined })} aria-current={state.layer === undefined ? 'page' : undefined}>
        All tables
      </Link>
      {AREAS.map((area) => {
        const tables = listing?.tables.filter((table) => table.layer === area).length;
        return (
          <Link
            key={area}
            to={link({ layer: area })}
            aria-current={state.layer === area ? 'page' : undefined}
          >
            {area}
            {tables !== undefined && area !== '_medallion' && <span className="muted"> {tables}</span>}
          </Link>
        );
      })}
    </nav>
  );
}

function LayerView({ listing, layer }: { listing: TableListing; layer: (typeof AREAS)[number] }) {
  const { state, link } = useLakeState();
  const objectsOnly = layer === '_medallion';
  const tab = objectsOnly || state.tab === 'objects' ? 'objects' : 'tables';
  return (
    <section>
      <h1>{layer}</h1>
      {!objectsOnly && (
        <nav className="tabs" aria-label="Layer views">
          <Link
            to={link({ tab: undefined, prefix: undefined })}
            aria-current={tab === 'tables' ? 'page' : undefined}
          >
            Tables
          </Link>
          <Link to={link({ tab: 'objects' })} aria-current={tab === 'objects' ? 'page' : undefined}>
            Objects
          </Link>
        </nav>
      )}
      {tab === 'objects' ? <ObjectBrowser area={layer} /> : <TableList listing={listing} layer={layer} />}
    </section>
  );
}

export default function LakePage() {
  const { state } = useLakeState();
  const tables = useTables(state.lake);
  const { layer, table } = state;
  let content;
  if (layer && table && layer !== '_medallion')
    content = <TableView key={`${layer}.${table}`} layer={layer} table={table} />;
  else if (tables.error || !tables.data) content = <NotYet query={tables} what="the lake" />;
  else if (layer) content = <LayerView listing={tables.data} layer={layer} />;
  else
    content = (
      <section>
        <h1>Lake</h1>
        <p className="muted">{tables.data.lake.location}</p>
        <TableList listing={tables.data} />
      </section>
    );
  return (
    <div className="lake-page">
      <Layers listing={tables.data} />
      <div className="lake-main">{content}</div>
    </div>
  );
}
