/**
 * Quality: what a pipeline's expectations found over its last runs (a chart of failing rows per expectation), the
 * results of one run, and the quarantine of its lake by reason with sample rows. State in the URL: `pipeline`,
 * `run`, `qtable`, `reason`.
 */
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link } from 'react-router';
import type { QualityRow, QualityTrend } from '../../app/quality.js';
import type { QuarantineSummary, QuarantineTable } from '../../app/quarantine.js';
import type { RunRecord } from '../../metadata/metadata-store.js';
import { api } from '../api/client.js';
import { EChart, type ChartOption } from '../components/EChart.js';
import { count } from '../components/format.js';
import { PipelinePicker, usePipelineParam } from '../components/PipelinePicker.js';
import { Problem } from '../components/Problem.js';
import { StateBadge, when } from '../components/states.js';
import { useSearchParam, useSearchParamChanges } from '../components/url-state.js';
import './QualityPage.css';

/** Runs the trend looks back on. */
const TREND_RUNS = 20;

function outcome(row: Pick<QualityRow, 'passed' | 'action'>): 'passed' | 'warned' | 'quarantined' | 'failed' {
  if (row.passed) return 'passed';
  return row.action === 'warn' ? 'warned' : row.action === 'quarantine' ? 'quarantined' : 'failed';
}

function Outcome({ row }: { row: Pick<QualityRow, 'passed' | 'action'> }) {
  const word = outcome(row);
  return <span className={`outcome outcome-${word}`}>{word}</span>;
}

function trendOption(trend: QualityTrend): { option: ChartOption; failing: number } {
  const failing = trend.expectations.filter((series) => series.failingRows.some((rows) => (rows ?? 0) > 0));
  return {
    failing: failing.length,
    option: {
      // Runs by logical date, to the second: two runs of one minute stay apart.
      xAxis: {
        type: 'category',
        data: trend.runs.map((run) => run.logicalDate.slice(5, 19).replace('T', ' ')),
      },
      yAxis: { type: 'value', minInterval: 1 },
      series: failing.map((series) => ({
        type: 'line',
        name: `${series.task} ${series.name}`,
        data: series.failingRows,
        connectNulls: true,
        symbolSize: 6,
      })),
    },
  };
}

function TrendSection({
  trend,
  run,
  setRun,
}: {
  trend: QualityTrend;
  run: string | undefined;
  setRun: (id: string) => void;
}) {
  const { option, failing } = useMemo(() => trendOption(trend), [trend]);
  if (trend.runs.length === 0) return <p className="empty">No finished run of {trend.pipeline} yet.</p>;
  return (
    <>
      <EChart
        title="Failing rows per expectation"
        summary={`${trend.runs.length} runs, ${failing} of ${trend.expectations.length} expectations with failing rows`}
        option={option}
      />
      <table className="list quality-runs">
        <caption className="visually-hidden">Last finished runs and their expectation results</caption>
        <thead>
          <tr>
            <th>Run</th>
            <th>Logical date</th>
            <th>Finished</th>
            <th>State</th>
            <th className="number">Results</th>
            <th className="number">Warned</th>
            <th className="number">Quarantined</th>
            <th className="number">Failed</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {[...trend.runs].reverse().map((brief) => (
            <tr key={brief.id} aria-current={brief.id === run ? 'true' : undefined}>
              <td>
                <Link to={`/runs/${brief.id}`}>{brief.id}</Link>
              </td>
              <td>{when(brief.logicalDate)}</td>
              <td>{when(brief.finishedAt)}</td>
              <td>
                <StateBadge state={brief.state} />
              </td>
              <td className="number">{brief.results}</td>
              <td className="number">{brief.warned}</td>
              <td className="number">{brief.quarantined}</td>
              <td className="number">{brief.failed}</td>
              <td>
                <button type="button" aria-pressed={brief.id === run} onClick={() => setRun(brief.id)}>
                  Results
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function RunResults({ runId }: { runId: string }) {
  const results = useQuery({
    queryKey: ['quality', 'run', runId],
    queryFn: () => api<{ run: RunRecord; expectations: QualityRow[] }>(`/api/runs/${runId}/quality`),
  });
  if (results.isPending) return <p className="loading">Loading results…</p>;
  if (results.error) return <Problem error={results.error} />;
  const rows = results.data.expectations;
  return (
    <section aria-labelledby="results-heading">
      <h2 id="results-heading">Results of {runId}</h2>
      {rows.length === 0 ? (
        <p className="empty">No expectation was checked in this run (its tables were not rebuilt).</p>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th>Task</th>
              <th>Expectation</th>
              <th>Type</th>
              <th>Action</th>
              <th>Result</th>
              <th className="number">Failing rows</th>
              <th>Observed</th>
              <th>Example</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={`${row.task} ${row.name}`}>
                <td>{row.task}</td>
                <td>{row.name}</td>
                <td>{row.type}</td>
                <td>{row.action}</td>
                <td>
                  <Outcome row={row} />
                </td>
                <td className="number">{count(row.failingRows)}</td>
                <td>{row.observed ?? '—'}</td>
                <td>
                  {row.samples[0] ? (
                    <details>
                      <summary>
                        {row.samples.length} example{row.samples.length === 1 ? '' : 's'}
                      </summary>
                      <pre className="record">{JSON.stringify(row.samples, null, 2)}</pre>
                    </details>
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Samples({ table, reason }: { table: QuarantineTable; reason: string | null }) {
  return (
    <section aria-labelledby="samples-heading">
      <h3 id="samples-heading">
        Newest rows of {table.table}
        {reason && ` quarantined as ${reason}`}
      </h3>
      {table.samples.length === 0 ? (
        <p className="empty">No rows{reason && ` with reason ${reason}`}.</p>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th>Quarantined</th>
              <th>Run</th>
              <th>Reason</th>
              <th>Record id</th>
              <th>Detail</th>
              <th>Record</th>
            </tr>
          </thead>
          <tbody>
            {table.samples.map((sample, index) => (
              <tr key={`${sample.record_id ?? ''} ${index}`}>
                <td>{sample.quarantined_at?.slice(0, 16) ?? '—'}</td>
                <td>{sample.run_id ? <Link to={`/runs/${sample.run_id}`}>{sample.run_id}</Link> : '—'}</td>
                <td>{sample.reason ?? '—'}</td>
                <td className="record-id">{sample.record_id ?? '—'}</td>
                <td>{sample.detail ?? '—'}</td>
                <td>
                  <details>
                    <summary>record</summary>
                    <pre className="record">{sample.record}</pre>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function QuarantineSection({ pipeline }: { pipeline: string }) {
  const [params, change] = useSearchParamChanges();
  const chosenTable = params.get('qtable');
  const reason = params.get('reason');
  const summary = useQuery({
    queryKey: ['quarantine', pipeline, reason],
    queryFn: () =>
      api<QuarantineSummary>(
        `/api/pipelines/${pipeline}/quarantine${reason ? `?reason=${encodeURIComponent(reason)}` : ''}`,
      ),
    refetchInterval: 30_000,
  });
  if (summary.isPending) return <p className="loading">Reading the quarantine…</p>;
  if (summary.error) return <Problem error={summary.error} />;
  const { tables } = summary.data;
  if (tables.length === 0) return <p className="empty">Nothing was quarantined in {pipeline}’s lake.</p>;
  const shown =
    tables.find((table) => table.table === chosenTable) ??
    tables.find((table) => table.rows > 0) ??
    tables[0];
  const choose = (table: string, next: string | null) => change({ qtable: table, reason: next });
  return (
    <>
      <table className="list quarantine-tables">
        <caption className="visually-hidden">Quarantine tables and their reasons</caption>
        <thead>
          <tr>
            <th>Quarantine table</th>
            <th className="number">Rows</th>
            <th>Rows by reason</th>
          </tr>
        </thead>
        <tbody>
          {tables.map((table) => (
            <tr key={table.table}>
              <td>
                <button
                  type="button"
                  className="link"
                  aria-pressed={table === shown && !reason}
                  onClick={() => choose(table.table, null)}
                >
                  {table.table}
                </button>
              </td>
              <td className="number">{count(table.rows)}</td>
              <td>
                <ul className="reasons" aria-label={`reasons in ${table.table}`}>
                  {table.reasons.map((entry) => (
                    <li key={entry.reason}>
                      <button
                        type="button"
                        aria-pressed={table === shown && reason === entry.reason}
                        onClick={() => choose(table.table, entry.reason)}
                      >
                        {entry.reason} <span className="reason-count">{count(entry.rows)}</span>
                      </button>
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown && <Samples table={shown} reason={reason} />}
    </>
  );
}

export function QualityPage() {
  const picked = usePipelineParam();
  const [chosenRun, setRun] = useSearchParam('run');
  const { pipeline } = picked;
  const trend = useQuery({
    queryKey: ['quality', 'trend', pipeline],
    queryFn: () => api<QualityTrend>(`/api/pipelines/${pipeline}/quality?limit=${TREND_RUNS}`),
    enabled: pipeline !== undefined,
    refetchInterval: 10_000,
  });
  const run = chosenRun ?? trend.data?.runs.at(-1)?.id;
  return (
    <section className="quality">
      <div className="page-head">
        <h1>Quality</h1>
        <PipelinePicker {...picked} />
      </div>
      <h2>Expectations over the last {TREND_RUNS} runs</h2>
      {trend.isPending && <p className="loading">Loading…</p>}
      <Problem error={trend.error} />
      {trend.data && <TrendSection trend={trend.data} run={run} setRun={setRun} />}
      {run && <RunResults runId={run} />}
      <h2>Quarantine</h2>
      {pipeline && <QuarantineSection pipeline={pipeline} />}
    </section>
  );
}
