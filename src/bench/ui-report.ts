/** The web UI part of BENCHMARKS.md: its rows in the targets table and its own section. */
import { formatFigure } from './headline.js';
import { table } from './report.js';
import { spliceSection } from './splice.js';
import { UI_TARGETS, type UiBackend, type UiBenchResult } from './ui-latency.js';

export type UiReport = UiBenchResult | { skipped: string };

export const UI_HEADING = '## Web UI';
const ROW_PREFIX = 'Web UI:';

const BACKENDS: Record<UiBackend, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
const ms = (value: number) => `${value < 10 ? value.toFixed(1) : formatFigure(Math.round(value))} ms`;
const kb = (bytes: number) => `${formatFigure(Math.round(bytes / 1024))} KB`;
const mark = (met: boolean) => (met ? '✅' : '❌');

function slowest(result: UiBenchResult, backend: UiBackend) {
  const calls = result.calls.filter((call) => call.backend === backend);
  return calls.length ? calls.reduce((worst, call) => (call.p95Ms > worst.p95Ms ? call : worst)) : undefined;
}

export function uiProblems(report: UiReport | undefined): string[] {
  if (!report || 'skipped' in report) return [];
  const found: string[] = [];
  for (const backend of ['sqlite', 'postgres'] as const) {
    for (const call of report.calls.filter((each) => each.backend === backend)) {
      if (call.p95Ms > UI_TARGETS.apiP95Ms[backend])
        found.push(
          `${call.name} on ${BACKENDS[backend]}: p95 ${ms(call.p95Ms)}, over ${ms(UI_TARGETS.apiP95Ms[backend])}`,
        );
    }
  }
  if (report.gridDraw && report.gridDraw.worstMs > UI_TARGETS.gridDrawMs)
    found.push(
      `the grid was drawn ${ms(report.gridDraw.worstMs)} after navigation, over ${ms(UI_TARGETS.gridDrawMs)}`,
    );
  if (report.bundle.gzipBytes > UI_TARGETS.bundleGzipBytes)
    found.push(
      `the UI bundle is ${kb(report.bundle.gzipBytes)} gzipped, over ${kb(UI_TARGETS.bundleGzipBytes)}`,
    );
  return found;
}

export function uiTargetRows(report: UiReport | undefined): string[][] {
  if (!report) return [];
  if ('skipped' in report) return [[`${ROW_PREFIX} API latency, grid, bundle`, report.skipped, '—']];
  const rows: string[][] = [];
  for (const backend of ['sqlite', 'postgres'] as const) {
    const target = `${ROW_PREFIX} every page's API call p95 ≤ ${ms(UI_TARGETS.apiP95Ms[backend])} on ${BACKENDS[backend]}`;
    const worst = slowest(report, backend);
    const skipped = report.notMeasured.find((reason) => reason.startsWith(BACKENDS[backend]));
    if (!worst) rows.push([target, skipped ?? 'not measured', '—']);
    else
      rows.push([
        target,
        `slowest: ${worst.name}, ${ms(worst.p95Ms)}`,
        mark(worst.p95Ms <= UI_TARGETS.apiP95Ms[backend]),
      ]);
  }
  const grid = report.gridDraw;
  const gridTarget = `${ROW_PREFIX} the pipeline page's grid drawn ≤ ${ms(UI_TARGETS.gridDrawMs)} after navigation`;
  if (!grid)
    rows.push([
      gridTarget,
      report.notMeasured.find((reason) => reason.startsWith('grid')) ?? 'not measured',
      '—',
    ]);
  else
    rows.push([
      gridTarget,
      `${ms(grid.worstMs)} worst of ${grid.navigations} (first ${ms(grid.firstMs)}, median after ${ms(grid.medianMs)})`,
      mark(grid.worstMs <= UI_TARGETS.gridDrawMs),
    ]);
  rows.push([
    `${ROW_PREFIX} the bundle ≤ ${kb(UI_TARGETS.bundleGzipBytes)} gzipped`,
    `${kb(report.bundle.gzipBytes)} (${report.bundle.files} files)`,
    mark(report.bundle.gzipBytes <= UI_TARGETS.bundleGzipBytes),
  ]);
  return rows;
}

export function renderUi(report: UiReport | undefined, command: string, date: string): string[] {
  const out = [UI_HEADING, '', `Made with \`${command}\` on ${date}.`, ''];
  if (!report) return [...out, 'Not measured in this run.'];
  if ('skipped' in report) return [...out, report.skipped];
  const { history } = report;
  out.push(
    `A history of ${formatFigure(history.runs)} runs × ${history.tasks} tasks, each try with ${history.logLines} log lines, ` +
      `seeded into the metadata store (${Object.entries(report.seedMs)
        .map(([backend, value]) => `${BACKENDS[backend as UiBackend]} in ${(value / 1000).toFixed(1)} s`)
        .join(', ')}), beside one real run of the example pipeline for the table previews. ` +
      'Each call is made over HTTP to the real server with a signed-in session, 10 times to warm up and then 100 times one after the other.',
    '',
  );
  const backends = (['sqlite', 'postgres'] as const).filter((backend) =>
    report.calls.some((call) => call.backend === backend),
  );
  const names = [...new Set(report.calls.map((call) => call.name))];
  const cell = (name: string, backend: UiBackend) => {
    const call = report.calls.find((each) => each.name === name && each.backend === backend);
    return call ? `${ms(call.p50Ms)} / ${ms(call.p95Ms)}` : '—';
  };
  out.push(
    table(
      ['API call (p50 / p95)', ...backends.map((backend) => BACKENDS[backend])],
      names.map((name) => [name, ...backends.map((backend) => cell(name, backend))]),
      ['l', ...backends.map(() => 'r' as const)],
    ),
    '',
  );
  if (report.gridDraw)
    out.push(
      `The pipeline page in chromium, from the navigation's start to the frame after the grid's first cell joined the page, by the browser's own clock (${report.gridDraw.navigations} navigations, the first with a cold cache): ` +
        `first ${ms(report.gridDraw.firstMs)}, median of the others ${ms(report.gridDraw.medianMs)}, worst ${ms(report.gridDraw.worstMs)}.`,
      '',
    );
  for (const reason of report.notMeasured) out.push(`Not measured: ${reason}.`, '');
  out.push(
    `The bundle: ${report.bundle.files} JavaScript and CSS files, ${kb(report.bundle.gzipBytes)} gzipped in all (every page is loaded on first use).`,
  );
  return out;
}

/** `markdown` with its web UI section and target rows replaced: for `--ui-only`. */
export function spliceUi(markdown: string, report: UiReport, command: string, date: string): string {
  return spliceSection(markdown, {
    heading: UI_HEADING,
    section: renderUi(report, command, date),
    rowPrefix: `| ${ROW_PREFIX}`,
    targetRows: uiTargetRows(report),
  });
}
