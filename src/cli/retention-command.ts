import type { PipelineDefinition } from '../core/pipeline.js';
import { retentionPolicy } from '../core/retention.js';
import type { Project } from '../project/project.js';
import { openLake, storeSettings } from '../project/locations.js';
import { applyRetention, describePolicy } from '../runner/retention.js';
import { LakeLayout } from '../table/lake-layout.js';
import { databaseConnections } from './connections-command.js';
import { fail } from './exit.js';
import { cliActor, openProject, projectLake } from './project-context.js';
import { formatNumber, table } from './render.js';

export interface RetentionFlags {
  pipeline?: string;
  lake?: string;
  db?: string;
  dryRun: boolean;
  json: boolean;
}

/** The pipeline whose retention applies: --pipeline, else the maintenance pipeline when the project has it. */
async function retentionPipeline(
  project: Project,
  flags: RetentionFlags,
): Promise<PipelineDefinition | undefined> {
  if (flags.pipeline) return project.pipeline(flags.pipeline);
  return (await project.pipelines()).find((pipeline) => pipeline.name === 'data_quality_checks');
}

/**
 * `medallion retention`: what the retention task of `data_quality_checks` does, here and now (or, with --dry-run,
 * what it would delete): the same policy from the project file, the same code.
 */
export async function retentionCommand(flags: RetentionFlags): Promise<void> {
  try {
    const project = await openProject();
    const pipeline = await retentionPipeline(project, flags);
    const policy = retentionPolicy(project.retention(pipeline?.name));
    const location =
      flags.lake || !pipeline
        ? await projectLake(project, flags.lake)
        : project.requireLocations(pipeline).lake;
    const settings = storeSettings(process.env, databaseConnections(project, { ...flags, lake: location }));
    const lake = new LakeLayout(await openLake(location, settings));
    const { report, deleted } = await applyRetention(lake, policy, {
      now: new Date(),
      dryRun: flags.dryRun,
      runId: `medallion retention by ${cliActor()}`,
      ...(project.engine().scratchDir && { scratchDir: project.engine().scratchDir }),
    });
    if (flags.json) {
      const output = { lake: lake.location, pipeline: pipeline?.name ?? null, ...report, deleted };
      process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
      return;
    }
    const verb = flags.dryRun ? 'would delete' : 'deleted';
    process.stdout.write(
      [
        `${lake.location}: ${describePolicy(report.policy)}; ${verb} ${formatNumber(report.files)} file(s), ` +
          `${formatNumber(report.bytes)} bytes`,
        table(
          ['layer', verb, 'bytes', 'data files', 'temp files', 'landing copies', 'unrecorded copies'],
          report.perLayer.map((layer) => [
            layer.layer,
            formatNumber(layer.files),
            formatNumber(layer.bytes),
            formatNumber(layer.dataFiles),
            formatNumber(layer.tempFiles),
            formatNumber(layer.landedCopies),
            formatNumber(layer.unrecordedCopies),
          ]),
        ),
      ].join('\n') + '\n',
    );
  } catch (error) {
    fail(error);
  }
}
