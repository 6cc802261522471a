/**
 * Monitoring: a pipeline's last runs as charts (rows and bytes per layer, task durations, success rate, peak memory
 * per task) and the lake's latest layer check with its warnings. State in the URL: `pipeline`, `runs`.
 */
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link } from 'react-router';
import type { MonitoringSeries } from '../../app/monitoring.js';
import { api } from '../api/client.js';
import { EChart, type ChartOption } from '../components/EChart.js';
import { bytes, count } from '../components/format.js';
import { PipelinePicker, usePipelineParam } from '../components/PipelinePicker.js';
import { Problem } from '../components/Problem.js';
import { when } from '../components/states.js';
import { useSearchParam } from '../components/url-state.js';
import './MonitoringPage.css';

const WINDOWS = ['20', '50', '100', '200'];
const DEFAULT_WINDOW = '50';

type Points = (number | null)[];

interface ChartSpec {
  title: string;
  summary: string;
  option: ChartOption;
}

/** A chart of one line per named series over the runs' finish times. */
function overTime(
  series: MonitoringSeries,
  chart: { title: string; summary: string; max?: number },
  lines: { name: string; values: Points }[],
  format: (value: number) => string,
): ChartSpec {
  const at = series.runs.map((run) => run.finishedAt);
  return {
    title: chart.title,
    summary: chart.summary,
    option: {
      xAxis: { type: 'time' },
      yAxis: {
        type: 'value',
        axisLabel: { formatter: format },
        ...(chart.max !== undefined && { max: chart.max, min: 0 }),
      },
      tooltip: { valueFormatter: (value) => format(Number(value)) },
      series: lines.map((line) => ({
        type: 'line',
        name: line.name,
        data: line.values.map((value, index) => [at[index], value]),
        connectNulls: true,
        symbolSize: 5,
      })),
    },
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const percent = (share: number) => `${Math.round(share * 100)} %`;

function highest(values: Points): number | null {
  const measured = values.filter((value): value is number => value !== null);
  return measured.length === 0 ? null : Math.max(...measured);
}

function Charts({ series }: { series: MonitoringSeries }) {
  const charts = useMemo((): ChartSpec[] => {
    const runs = `${series.runs.length} run${series.runs.length === 1 ? '' : 's'}`;
    const rss = series.tasks.map((task) => ({ task: task.task, peak: highest(task.peakRssBytes) }));
    const latestRate = series.successRate.at(-1);
    const layers = `${runs}, ${series.layers.length} layers`;
    const rate =
      latestRate === null || latestRate === undefined
        ? 'none finished'
        : `${percent(latestRate)} of the last ones succeeded`;
    return [
      overTime(
        series,
        { title: 'Rows per layer', summary: layers },
        series.layers.map((layer) => ({ name: layer.layer, values: layer.rows })),
        count,
      ),
      overTime(
        series,
        { title: 'Bytes per layer', summary: layers },
        series.layers.map((layer) => ({ name: layer.layer, values: layer.bytes })),
        bytes,
      ),
      overTime(
        series,
        { title: 'Task durations', summary: `${runs}, ${series.tasks.length} tasks` },
        series.tasks.map((task) => ({ name: task.task, values: task.durationMs })),
        seconds,
      ),
      overTime(
        series,
        { title: 'Success rate', summary: `${runs}, ${rate}`, max: 1 },
        [{ name: `succeeded (last ${series.successWindow} runs)`, values: series.successRate }],
        percent,
      ),
      {
        title: 'Peak memory per task',
        summary: `${series.tasks.length} tasks, the highest ${bytes(highest(rss.map((entry) => entry.peak)))}`,
        option: {
          xAxis: {
            type: 'category',
            data: rss.map((entry) => entry.task),
            axisLabel: { rotate: 30, width: 130, overflow: 'truncate' },
          },
          yAxis: { type: 'value', axisLabel: { formatter: bytes } },
          tooltip: { valueFormatter: (value) => bytes(Number(value)) },
          series: [
            { type: 'bar', name: `highest in the last ${runs}`, data: rss.map((entry) => entry.peak) },
          ],
        },
      },
    ];
  }, [series]);
  return (
    <div className="charts">
      {charts.map((chart) => (
        <EChart key={chart.title} title={chart.title} summary={chart.summary} option={chart.option} />
      ))}
    </div>
  );
}

function LayerHealth({ check }: { check: MonitoringSeries['layerHealth'] }) {
  if (!check) {
    return (
      <p className="empty">
        No layer check has run yet: the <code>data_quality_checks</code> pipeline measures each layer.
      </p>
    );
  }
  return (
    <>
      <p className="muted">
        Measured by {check.pipeline} in <Link to={`/runs/${check.runId}`}>{check.runId}</Link>, finished{' '}
        {when(check.finishedAt)}.
      </p>
      {check.warnings.length === 0 ? (
        <p>No warning.</p>
      ) : (
        <ul className="warnings" aria-label="Layer warnings">
          {check.warnings.map((warning) => (
            <li key={warning}>{warning}</li>
          ))}
        </ul>
      )}
      <table className="list">
        <thead>
          <tr>
            <th>Layer</th>
            <th className="number">Objects</th>
            <th className="number">Bytes</th>
            <th className="number">Tables</th>
            <th className="number">Rows</th>
            <th>Newest object</th>
          </tr>
        </thead>
        <tbody>
          {check.layers.map((layer) => (
            <tr key={layer.layer}>
              <td>{layer.layer}</td>
              <td className="number">{count(layer.objects)}</td>
              <td className="number">{bytes(layer.bytes)}</td>
              <td className="number">{layer.layer === 'landing' ? '—' : count(layer.tables)}</td>
              <td className="number">{count(layer.rows)}</td>
              <td>{when(layer.newest)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function MonitoringPage() {
  const picked = usePipelineParam(['runs']);
  const [chosenWindow, setWindow] = useSearchParam('runs');
  const window = chosenWindow && WINDOWS.includes(chosenWindow) ? chosenWindow : DEFAULT_WINDOW;
  const { pipeline } = picked;
  const series = useQuery({
    queryKey: ['monitoring', pipeline, window],
    queryFn: () => api<MonitoringSeries>(`/api/pipelines/${pipeline}/monitoring?limit=${window}`),
    enabled: pipeline !== undefined,
    refetchInterval: 10_000,
  });
  return (
    <section className="monitoring">
      <div className="page-head">
        <h1>Monitoring</h1>
        <PipelinePicker {...picked} />
        <label>
          Runs{' '}
          <select value={window} onChange={(event) => setWindow(event.target.value)}>
            {WINDOWS.map((size) => (
              <option key={size} value={size}>
                last {size}
              </option>
            ))}
          </select>
        </label>
      </div>
      {series.isPending && <p className="loading">Loading…</p>}
      <Problem error={series.error} />
      {series.data && (
        <>
          <h2>Layer health</h2>
          <LayerHealth check={series.data.layerHealth} />
          <h2>Over the last runs</h2>
          {series.data.runs.length === 0 ? (
            <p className="empty">No finished run of {series.data.pipeline} yet.</p>
          ) : (
            <Charts series={series.data} />
          )}
        </>
      )}
    </section>
  );
}
