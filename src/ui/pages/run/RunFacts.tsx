/** What a run is (pipeline, trigger, dates, locations, parameters) and, once it ended, what it made (its summary). */
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import type { RunLocations, RunRecord } from '../../../metadata/metadata-store.js';
import type { RunSummary } from '../../../runner/run-summary.js';
import { duration, when } from '../../components/states.js';
import { figure } from '../../components/format.js';

/** The run's summary, once it has one (it is written when the run ends). */
export function summaryOf(run: RunRecord): RunSummary | null {
  const summary = run.summary as Partial<RunSummary> | null;
  return summary && Array.isArray(summary.tables) ? (summary as RunSummary) : null;
}

function Fact({ name, children }: { name: string; children: ReactNode }) {
  return (
    <div>
      <dt>{name}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Params({ params }: { params: Record<string, unknown> }) {
  const entries = Object.entries(params);
  if (entries.length === 0) return <span className="muted">none</span>;
  return <code>{entries.map(([name, value]) => `${name} = ${JSON.stringify(value)}`).join(', ')}</code>;
}

/** What computes its silver and gold tables: DuckDB in each worker, or a Spark server (and its UI, when known). */
function Engine({ engine }: { engine: RunLocations['engine'] }) {
  const spark = engine?.spark;
  const kind = engine?.kind === 'spark' ? 'Spark' : 'DuckDB';
  if (!spark) return <>{kind}</>;
  return (
    <>
      {kind}
      {engine.kind === 'duckdb' ? ' (Spark for the tables that ask for it)' : ''} at{' '}
      <code>{spark.remote}</code>
      {spark.uiUrl && (
        <>
          {' · '}
          <a href={spark.uiUrl} target="_blank" rel="noreferrer">
            Spark UI
          </a>
        </>
      )}
    </>
  );
}

export function RunFacts({ run }: { run: RunRecord }) {
  const summary = summaryOf(run);
  return (
    <>
      <dl className="run-facts">
        <Fact name="Pipeline">
          <Link to={`/pipelines/${run.pipeline}`}>{run.pipeline}</Link>
        </Fact>
        <Fact name="Trigger">
          {run.trigger}
          {run.force && ' (forced)'}
        </Fact>
        <Fact name="Logical date">{when(run.logicalDate)}</Fact>
        <Fact name="Data interval">
          {when(run.dataIntervalStart)} → {when(run.dataIntervalEnd)}
        </Fact>
        <Fact name="Started">{when(run.startedAt)}</Fact>
        <Fact name="Finished">{when(run.finishedAt)}</Fact>
        <Fact name="Duration">{duration(run.startedAt, run.finishedAt)}</Fact>
        <Fact name="Lake">
          <code>{run.locations?.lake ?? '—'}</code>
        </Fact>
        <Fact name="Source">
          <code>{run.locations?.source ?? '—'}</code>
        </Fact>
        <Fact name="Engine">
          <Engine engine={run.locations?.engine} />
        </Fact>
        <Fact name="Parameters">
          <Params params={run.params} />
        </Fact>
      </dl>
      {run.stop && (
        <p className="run-stop" role="status">
          Stopped ({run.stop.state}) at {when(run.stop.requestedAt)}: {run.stop.reason}
        </p>
      )}
      {summary?.error && !run.stop && <p className="run-stop">{summary.error}</p>}
      {summary?.headline && (
        <dl className="run-headline" aria-label="Headline">
          {Object.entries(summary.headline).map(([name, value]) => (
            <Fact key={name} name={name.replaceAll('_', ' ')}>
              {figure(value)}
            </Fact>
          ))}
        </dl>
      )}
    </>
  );
}

/** Each table the run wrote, with its rows accounted for: in = out + deduplicated + quarantined. */
export function RunTables({ run }: { run: RunRecord }) {
  const tables = summaryOf(run)?.tables ?? [];
  if (tables.length === 0) return null;
  return (
    <section aria-labelledby="run-tables">
      <h2 id="run-tables">Tables</h2>
      <table className="list run-tables">
        <thead>
          <tr>
            <th>Table</th>
            <th className="number">Version</th>
            <th className="number" title="rows in the table's current version">
              Rows
            </th>
            <th className="number" title="rows this run wrote">
              Written
            </th>
            <th className="number" title="input records">
              In
            </th>
            <th className="number" title="input records that reached the table">
              Out
            </th>
            <th className="number">Deduplicated</th>
            <th className="number">Quarantined</th>
            <th className="number" title="an incremental table: earlier records a new one outranked">
              Replaced
            </th>
            <th title="an incremental table: merged from the new input rows, or rebuilt from all of it">
              Refresh
            </th>
          </tr>
        </thead>
        <tbody>
          {tables.map((table) => (
            <tr key={`${table.layer}.${table.table}`}>
              <td>
                {table.layer}.{table.table}
              </td>
              <td className="number">{figure(table.version)}</td>
              <td className="number">{figure(table.rows)}</td>
              <td className="number">{figure(table.rowsWritten)}</td>
              <td className="number">{figure(table.accounting?.rowsIn)}</td>
              <td className="number">{figure(table.accounting?.recordsOut)}</td>
              <td className="number">{figure(table.accounting?.deduplicated)}</td>
              <td className="number">{figure(table.accounting?.quarantined)}</td>
              <td className="number">{figure(table.accounting?.replaced)}</td>
              <td title={table.refresh?.reason}>
                {table.refresh ? (table.refresh.kind === 'full' ? 'rebuilt' : 'merged') : '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
