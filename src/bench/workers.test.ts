import { describe, expect, it } from 'vitest';
import { noopModule, ranAt, stampedNoop } from './noop-pipelines.js';
import { statementKind } from './process-profile.js';
import { spliceCautions } from './splice.js';
import type { FleetCpu } from './worker-fleet.js';
import { spread, type NoopRunMeasure } from './workers-noop.js';
import { criticalPath, type PipelineRunMeasure } from './workers-pipeline.js';
import { renderWorkers, spliceWorkers, workersProblems, workersTargetRows } from './workers-report.js';
import type { WorkersResult } from './workers.js';

const cpu: FleetCpu = { scheduler: 500, workers: 2_000, postgres: 1_500, machine: 6_000 };

function noopRun(
  workers: number,
  shape: 'fan' | 'chain',
  tasksPerSecond: number,
  p95: number,
): NoopRunMeasure {
  const tasks = shape === 'fan' ? 1_000 : 100;
  const spanMs = (tasks / tasksPerSecond) * 1000;
  return {
    workers,
    slots: 8,
    shape,
    round: 1,
    tasks,
    triggerToFinishMs: spanMs + 50,
    spanMs,
    triggerToFirstMs: 20,
    queuedToStarted: { p50: 2, p95: p95, min: -3, max: p95 + 1 },
    queuedToRan: { p50: 5, p95: p95 + 8, min: 1, max: p95 + 9 },
    claims: tasks / 4,
    perWorker: Array<number>(workers).fill(tasks / workers),
    cpu,
  };
}

function pipelineRun(executors: 'scheduler' | 1 | 2, wallMs: number): PipelineRunMeasure {
  return {
    executors,
    round: 1,
    wallMs,
    headline: { companies: 10 },
    tasks: [
      { id: 'ingest', ranOn: executors === 'scheduler' ? 'scheduler' : 'w1', durationMs: 900, waitMs: 3 },
    ],
    cpu,
  };
}

function result(fanPerSecond: number, chainP95: number, twoWorkersMs: number): WorkersResult {
  return {
    machine: {
      cores: 2,
      cpuModel: 'test',
      totalMemoryBytes: 2 ** 34,
      platform: 'linux',
      node: 'v20',
      duckdb: 'v1',
    },
    postgres: { foundIn: 'env', version: 'PostgreSQL 15' },
    repeats: 1,
    slots: [8],
    noop: [1, 2, 4].flatMap((workers) => [
      noopRun(workers, 'fan', workers === 4 ? fanPerSecond : 200, 3_000),
      noopRun(workers, 'chain', 60, chainP95),
    ]),
    pipeline: {
      scale: 10,
      slots: 4,
      memoryLimit: '768MB',
      measures: [pipelineRun('scheduler', 10_000), pipelineRun(1, 10_500), pipelineRun(2, twoWorkersMs)],
      graph: [{ id: 'ingest', dependsOn: [] }],
    },
  };
}

describe('workers benchmark', () => {
  it('writes pipeline modules that build the shapes from this file, with tasks that stamp their start', async () => {
    expect(noopModule('fan')).toMatch(
      /^import \{ fanPipeline, stampedNoop \} from "file:.*noop-pipelines\.[jt]s";/,
    );
    expect(noopModule('chain')).toContain('export default chainPipeline(100, stampedNoop);');
    const outcome = await stampedNoop();
    expect(ranAt(outcome)).toBeGreaterThan(Date.parse('2020-01-01'));
    expect(ranAt({ detail: 'x' })).toBeUndefined();
  });

  it('takes nearest-rank percentiles and refuses missing times', () => {
    const values = Array.from({ length: 20 }, (_, index) => index + 1);
    expect(spread(values)).toEqual({ p50: 10, p95: 19, min: 1, max: 20 });
    expect(() => spread([1, Number.NaN])).toThrow(/lacks/);
  });

  it('finds the longest chain of a graph and how many tasks can run at once', () => {
    const graph = [
      { id: 'a', dependsOn: [] },
      { id: 'b', dependsOn: ['a'] },
      { id: 'c', dependsOn: ['a'] },
      { id: 'd', dependsOn: ['b', 'c'] },
    ];
    const durations = new Map([
      ['a', 1],
      ['b', 5],
      ['c', 2],
      ['d', 1],
    ]);
    expect(criticalPath(graph, durations)).toEqual({ ms: 7, path: ['a', 'b', 'd'], totalMs: 9, widest: 2 });
  });

  it('names SQL statements by kind', () => {
    expect(statementKind('select pg_notify($1, $2)')).toBe('notify');
    expect(statementKind('select pg_advisory_xact_lock($1, hashtext($2))')).toBe('advisory lock');
    expect(statementKind('BEGIN')).toBe('begin');
    expect(statementKind('update "medallion_task_instances" set "state" = $1')).toBe('update task_instances');
    expect(statementKind('select max("line_no") as "last" from "medallion_task_logs" where')).toBe(
      'select task_logs',
    );
    expect(statementKind('listen "medallion_wake_x"')).toBe('listen');
  });

  it('judges the targets and splices its section, rows and cautions into a report', () => {
    const good = result(350, 12, 11_000);
    expect(workersTargetRows(good).map((row) => row[2])).toEqual(['✅', '✅', '✅']);
    expect(workersProblems(good)).toEqual([]);
    const bad = result(150, 25, 13_000);
    expect(workersTargetRows(bad).map((row) => row[2])).toEqual(['❌', '❌', '❌']);
    expect(workersProblems(bad)).toEqual([
      '4 workers: 150 no-op tasks/s, under 300',
      'chain: p95 queued → started 25 ms, over 20 ms',
      'pipeline: 2 workers took 1.30× one process, over 1.2×',
    ]);
    const report =
      '# Benchmarks\n\n## Targets\n\n| a | b | c |\n|:---|---:|:---|\n| x | 1 | ✅ |\n\n## How it is measured\n\n- x\n';
    const section = renderWorkers(bad, 'npm run bench', '2026-01-01T00:00:00.000Z');
    const once = spliceCautions(
      spliceWorkers(report, section, workersTargetRows(bad)),
      'workers',
      workersProblems(bad),
    );
    expect(once).toContain('> [!CAUTION]\n> ❌ **workers: 4 workers: 150 no-op tasks/s, under 300**');
    expect(once.indexOf('## Workers')).toBeLessThan(once.indexOf('## How it is measured'));
    expect(once).toContain('| x | 1 | ✅ |\n| Workers: ≥ 300 no-op tasks/s');
    expect(
      spliceCautions(spliceWorkers(once, section, workersTargetRows(bad)), 'workers', workersProblems(bad)),
    ).toBe(once);
    const fixed = spliceCautions(once, 'workers', []);
    expect(fixed).not.toContain('[!CAUTION]');
    expect(fixed).toContain('\n\n## Targets');
  });

  it('compares the other slot counts with the judged one', () => {
    const both = result(250, 5, 11_000);
    both.slots = [8, 16];
    both.noop.push({ ...noopRun(4, 'fan', 320, 2_000), slots: 16, claims: 140 });
    expect(workersTargetRows(both)[0]?.[1]).toBe('250 tasks/s (worst of 1)');
    expect(renderWorkers(both, 'npm run bench', 'now').join('\n')).toContain(
      'With 16 slots each, the 4 workers ran 320 tasks/s: 7.1 tasks per claim (4.0 with 8)',
    );
  });

  it('says why when it was not measured', () => {
    expect(workersTargetRows({ skipped: 'needs PostgreSQL' }).map((row) => row[2])).toEqual(['—', '—', '—']);
    expect(renderWorkers({ skipped: 'needs PostgreSQL' }, 'npm run bench', 'now').join('\n')).toContain(
      'Not measured in this run (needs PostgreSQL).',
    );
  });
});
