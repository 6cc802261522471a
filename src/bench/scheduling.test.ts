import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planTasks } from '../core/task-plan.js';
import { chainPipeline, fanPipeline } from './noop-pipelines.js';
import { measureScheduling, type SchedulingResult } from './scheduling.js';
import {
  renderScheduling,
  SCHEDULING_HEADING,
  schedulingTargetRows,
  spliceScheduling,
} from './scheduling-report.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-scheduling-test-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('scheduling benchmark', () => {
  it('builds a fan of 1,000 tasks and a chain of 100', () => {
    const fan = planTasks(fanPipeline());
    expect(fan).toHaveLength(1_000);
    expect(fan.find((task) => task.id === 'end')?.dependsOn).toHaveLength(998);
    const chain = planTasks(chainPipeline());
    expect(chain.map((task) => task.dependsOn.length)).toEqual([0, ...Array<number>(99).fill(1)]);
  });

  it('drives the chain through a scheduler on SQLite and splices its section into a report', async () => {
    const measure = await measureScheduling(`sqlite:${path.join(dir, 'chain.db')}`, 'sqlite', 'chain', 1);
    expect(measure).toMatchObject({ backend: 'sqlite', shape: 'chain', tasks: 100, slots: 1 });
    expect(measure.ticks).toBeGreaterThanOrEqual(100);
    expect(measure.perTaskMs).toBeCloseTo(measure.wallMs / 100, 1);
    expect(measure.operations.find((operation) => operation.name === 'claimTasks')?.calls).toBeGreaterThan(
      99,
    );

    const result: SchedulingResult = {
      repeats: 1,
      postgres: { skipped: 'none here' },
      measures: [measure, { backend: 'sqlite', shape: 'fan', slots: 8, error: 'boom' }],
    };
    const rows = schedulingTargetRows(result);
    expect(rows.map((row) => row[2])).toEqual(['❌', '—', '❌']);
    const section = renderScheduling(result, 'npm run bench', '2026-01-01T00:00:00.000Z', 2);
    const report =
      '# Benchmarks\n\n## Targets\n\n| a | b | c |\n|:---|---:|:---|\n| x | 1 | ✅ |\n\n## How it is measured\n\n- x\n';
    const once = spliceScheduling(report, section, rows);
    expect(once).toContain(`\n${SCHEDULING_HEADING}\n`);
    expect(once.indexOf(SCHEDULING_HEADING)).toBeLessThan(once.indexOf('## How it is measured'));
    expect(once).toContain('| x | 1 | ✅ |\n| Scheduling overhead on SQLite');
    expect(spliceScheduling(once, section, rows)).toBe(once);
  });
});
