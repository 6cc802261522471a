/** The engines part of BENCHMARKS.md: the example pipeline on DuckDB beside Spark, and where Spark would overtake. */
import { formatFigure } from './headline.js';
import type { EngineRun, EnginesReport } from './engines.js';
import { table } from './report.js';
import { spliceSection } from './splice.js';
import { seconds } from './format.js';

export const ENGINES_HEADING = '## Engines: DuckDB and Spark';

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** a + b·scale through the runs at the smallest and largest scale (time of the refined tasks). */
function line(runs: readonly EngineRun[]): { fixedMs: number; perScaleMs: number } | undefined {
  const sorted = [...runs].sort((a, b) => a.scale - b.scale);
  const [low, high] = [sorted[0], sorted.at(-1)];
  if (!low || !high || low.scale === high.scale) return undefined;
  const perScaleMs = (high.refinedMs - low.refinedMs) / (high.scale - low.scale);
  return { fixedMs: low.refinedMs - perScaleMs * low.scale, perScaleMs };
}

/** Where Spark's line crosses DuckDB's when Spark has `factor`× the cores of one DuckDB machine. */
function crossover(report: Extract<EnginesReport, { runs: unknown }>, factor: number): string {
  const duck = line(report.runs.filter((run) => run.engine === 'duckdb'));
  const spark = line(report.runs.filter((run) => run.engine === 'spark'));
  if (!duck || !spark) return 'needs two scales';
  const sparkPerScale = spark.perScaleMs / factor;
  if (sparkPerScale >= duck.perScaleMs) return 'never (Spark grows faster)';
  return `scale ≈ ${formatFigure(Math.round((spark.fixedMs - duck.fixedMs) / (duck.perScaleMs - sparkPerScale)))}`;
}

export function renderEngines(report: EnginesReport, command: string, date: string): string[] {
  const lines = [ENGINES_HEADING, ''];
  if ('skipped' in report) return [...lines, `Not measured: ${report.skipped}.`];
  const { fixed, runs } = report;
  lines.push(
    `Made with \`${command}\` on ${date}: the example pipeline at each scale, once with its silver and gold tables (and quality_check) on DuckDB, once on Spark — the standalone cluster of \`scripts/services/spark.sh\` (a master, two workers of one core and one 512 MB executor each, a Spark Connect server) on the same two cores, its files on the same disk. Landing and bronze are DuckDB's in both runs. Times are wall times; *refined tasks* is the sum of the silver, gold and quality_check tasks' durations (tasks run two at a time).`,
    '',
    `Spark's fixed costs (5 fresh sessions): a session ${seconds(median(fixed.sessionMs))} (median), its first query ${seconds(median(fixed.firstQueryMs))}, a trivial query on a warm session ${seconds(median(fixed.warmQueryMs))}. Each task on Spark opens its own session (and registers its inputs, one statement each), so it pays about ${seconds(median(fixed.sessionMs) + median(fixed.firstQueryMs))} before any work.`,
    '',
  );
  const scales = [...new Set(runs.map((run) => run.scale))];
  const rows = scales.map((scale) => {
    const duck = runs.find((run) => run.scale === scale && run.engine === 'duckdb');
    const spark = runs.find((run) => run.scale === scale && run.engine === 'spark');
    const same = duck && spark && JSON.stringify(duck.headline) === JSON.stringify(spark.headline);
    return [
      `${scale}`,
      duck ? seconds(duck.totalMs) : '—',
      spark ? seconds(spark.totalMs) : '—',
      duck ? seconds(duck.refinedMs) : '—',
      spark ? seconds(spark.refinedMs) : '—',
      duck && spark ? `${(spark.refinedMs / duck.refinedMs).toFixed(1)}×` : '—',
      same ? '✅ identical' : '❌ differs',
    ];
  });
  lines.push(
    table(
      [
        'Scale',
        'DuckDB run',
        'Spark run',
        'DuckDB refined tasks',
        'Spark refined tasks',
        'Spark ÷ DuckDB (refined)',
        'Headline',
      ],
      rows,
    ),
    '',
  );
  const growth = (engine: 'duckdb' | 'spark') => {
    const own = runs.filter((run) => run.engine === engine).sort((a, b) => a.scale - b.scale);
    const [low, high] = [own[0], own.at(-1)];
    return low && high && low !== high
      ? `${(high.refinedMs / low.refinedMs).toFixed(1)}× from scale ${low.scale} to ${high.scale}`
      : '—';
  };
  lines.push(
    `Growth of the refined tasks: DuckDB ${growth('duckdb')}, Spark ${growth('spark')} (the data grows ${scales.length > 1 ? `${scales.at(-1)! / scales[0]!}×` : '—'}).`,
    '',
    `Where Spark would overtake one DuckDB machine, from a straight line through these runs (time = fixed + per-scale × scale) with Spark's per-scale time divided by its share of cores: on these same two cores, ${crossover(report, 1)}; with 8× the cores (a cluster of 8 such machines), ${crossover(report, 8)}; with 32×, ${crossover(report, 32)}. The line is a simplification: DuckDB stops at one machine's memory and disk (scale 100 needs about 1.3 GiB here), while Spark spreads both.`,
  );
  return lines;
}

export function spliceEngines(markdown: string, section: string[]): string {
  return spliceSection(markdown, {
    heading: ENGINES_HEADING,
    section,
    rowPrefix: '| Engines',
    targetRows: [],
  });
}
