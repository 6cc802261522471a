import { runQuality } from '../app/quality.js';
import type { ExpectationResult } from '../core/expectations.js';
import { print } from './output.js';
import { withApp, type StoreFlags } from './project-context.js';
import { table } from './render.js';

export interface QualityFlags extends StoreFlags {
  /** The latest finished run of this pipeline. */
  pipeline?: string;
}

function outcome(result: ExpectationResult): string {
  if (result.passed) return 'passed';
  return { warn: 'warned', quarantine: 'quarantined', fail: 'FAILED' }[result.action];
}

/** `medallion quality [RUN]`: what the expectations found in a run (default: the latest finished one). */
export async function qualityCommand(runId: string | undefined, flags: QualityFlags): Promise<void> {
  await withApp(flags, async (ctx) => {
    const { run, expectations: rows } = await runQuality(ctx, {
      ...(runId && { runId }),
      ...(flags.pipeline && { pipeline: flags.pipeline }),
    });
    print(
      flags.json,
      { run: { id: run.id, pipeline: run.pipeline, state: run.state }, expectations: rows },
      () =>
        [
          `${run.pipeline} ${run.id}: ${run.state}, ${rows.length} expectation result(s), ${rows.filter((row) => !row.passed).length} not met`,
          rows.length === 0
            ? '  no expectation was checked in this run'
            : table(
                ['task', 'expectation', 'type', 'action', 'result', 'failing rows', 'observed', 'example'],
                rows.map((row) => [
                  row.task,
                  row.name,
                  row.type,
                  row.action,
                  outcome(row),
                  String(row.failingRows),
                  row.observed === undefined || row.observed === null ? '—' : String(row.observed),
                  row.samples[0] ? JSON.stringify(row.samples[0]).slice(0, 80) : '—',
                ]),
                ['task', 'expectation', 'type', 'action', 'result', 'observed', 'example'],
              ),
        ].join('\n'),
    );
  });
}
