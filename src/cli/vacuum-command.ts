import { checkRetentionMinimum } from '../core/retention.js';
import { parseDuration } from '../core/schedule.js';
import { LakeLayout } from '../table/lake-layout.js';
import { vacuumLake } from '../table/vacuum.js';
import { fail } from './exit.js';
import { openProject, projectLake } from './project-context.js';
import { databaseConnections } from './connections-command.js';
import { openLake, storeSettings } from '../project/locations.js';
import { formatNumber, table } from './render.js';

export interface VacuumFlags {
  lake?: string;
  db?: string;
  retain: string;
  dryRun: boolean;
  forceShortRetention: boolean;
  json: boolean;
}

/** `--retain` in ms; under an hour only with `--force-short-retention`. */
export function retentionMs(flags: Pick<VacuumFlags, 'retain' | 'forceShortRetention'>): number {
  const retain = { text: flags.retain, ms: parseDuration(flags.retain, '--retain') };
  checkRetentionMinimum(retain, {
    field: '--retain',
    force: flags.forceShortRetention,
    forceName: '--force-short-retention',
  });
  return retain.ms;
}

/** `medallion vacuum`: deletes the data files of old table versions no longer within the retention window. */
export async function vacuumCommand(flags: VacuumFlags): Promise<void> {
  try {
    const retainMs = retentionMs(flags);
    const now = new Date();
    const project = await openProject();
    const location = await projectLake(project, flags.lake);
    const settings = storeSettings(process.env, databaseConnections(project, { ...flags, lake: location }));
    const lake = new LakeLayout(await openLake(location, settings));
    const results = await vacuumLake(lake, { retainMs, now, ...(flags.dryRun && { dryRun: true }) });
    const tables = results.map((result) => ({ ...result, table: `${result.area}.${result.table}` }));
    const files = tables.reduce((sum, result) => sum + result.deleted.length, 0);
    const bytes = tables.reduce((sum, result) => sum + result.bytes, 0);
    const cutoff = new Date(now.getTime() - retainMs).toISOString();
    const verb = flags.dryRun ? 'would delete' : 'deleted';
    if (flags.json) {
      const report = { lake: lake.location, dryRun: flags.dryRun, retainMs, cutoff, tables };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      [
        `${lake.location}: every version readable since ${cutoff} (--retain ${flags.retain}) kept; ${verb} ${formatNumber(files)} file(s), ${formatNumber(bytes)} bytes in ${tables.length} table(s)`,
        table(
          ['table', flags.dryRun ? 'would delete' : 'files deleted', 'bytes', 'files kept'],
          tables.map((result) => [
            result.table,
            formatNumber(result.deleted.length),
            formatNumber(result.bytes),
            formatNumber(result.kept),
          ]),
        ),
      ].join('\n') + '\n',
    );
  } catch (error) {
    fail(error);
  }
}
