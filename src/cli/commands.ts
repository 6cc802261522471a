import { stat } from 'node:fs/promises';
import { openAlerter } from '../alerts/alerter.js';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';
import { generateDemoData } from '../demo-data/generate.js';
import { runPipeline } from '../runner/run-pipeline.js';
import type { RunSummary } from '../runner/run-summary.js';
import { storeConnections } from './connections-command.js';
import { EXIT, fail } from './exit.js';
import { scaffoldProject } from './init-project.js';
import { loadPipeline } from './load-pipeline.js';
import { openLake, openSource, storeSettings } from './locations.js';
import { openDb, startScheduler, type SchedulerFlags } from './orchestration.js';
import { progressOnStderr, renderSummary } from './render.js';

// In a module of their own, so that main.ts and the light commands need not load what the runner needs.
export { EXIT, fail } from './exit.js';

interface RunFlags {
  source?: string;
  lake: string;
  pipeline?: string;
  logicalDate?: string;
  retryRejected: boolean;
  memoryLimit?: string;
  db?: string;
  force?: boolean;
  withRetries?: boolean;
  alerts?: string;
  json: boolean;
}

async function execute(flags: RunFlags): Promise<RunSummary> {
  const pipeline = await loadPipeline(flags.pipeline);
  const source = flags.source ?? pipeline.defaultSource;
  if (!source) {
    throw new ConfigError('no source given', {
      context: { field: '--source' },
      hint: 'pass --source DIR or --source s3://bucket/prefix, or set defaultSource in the pipeline',
    });
  }
  const store = await openDb(flags.db);
  const settings = storeSettings(process.env, storeConnections(store));
  const alerter = flags.alerts ? await openAlerter(flags.alerts, store) : undefined;
  try {
    return await runPipeline({
      store,
      ...(alerter && { observer: alerter }),
      force: flags.force ?? false,
      retries: flags.withRetries ?? false,
      pipeline,
      source: await openSource(source, settings),
      lake: await openLake(flags.lake, settings),
      retryRejected: flags.retryRejected,
      ...(flags.logicalDate ? { logicalDate: flags.logicalDate } : {}),
      ...(flags.memoryLimit ? { memoryLimit: flags.memoryLimit } : {}),
      progress: progressOnStderr(),
    });
  } finally {
    await alerter?.close();
    await store.close();
  }
}

export async function schedulerCommand(flags: SchedulerFlags): Promise<void> {
  try {
    const { done } = await startScheduler(flags);
    await done;
  } catch (error) {
    fail(error);
  }
}

function report(summary: RunSummary, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(summary, null, 2)}\n` : `\n${renderSummary(summary)}\n`);
  process.exitCode = summary.status === 'success' ? EXIT.ok : EXIT.runFailed;
}

export async function runCommand(flags: RunFlags): Promise<void> {
  try {
    report(await execute(flags), flags.json);
  } catch (error) {
    fail(error);
  }
}

export async function demoCommand(flags: { dir: string; scale: number; json: boolean }): Promise<void> {
  try {
    const source = path.join(flags.dir, 'source');
    const lake = path.join(flags.dir, 'lake');
    const present = await stat(path.join(source, 'aws-marchespublics-annee-2022.json')).catch(
      () => undefined,
    );
    if (!present) {
      process.stderr.write(`generating sample data (scale ${flags.scale}) into ${source}\n`);
      await generateDemoData({ scale: flags.scale, seed: 42, outDir: source });
    }
    const db = `sqlite:${path.join(flags.dir, 'metadata.db')}`;
    report(await execute({ source, lake, db, retryRejected: false, json: flags.json }), flags.json);
    if (!flags.json) {
      process.stdout.write(
        `\nThe lake is in ${lake}: Delta tables under bronze/, silver/, gold/ and quarantine/.\n` +
          `Next: add files to ${source} and run again, or try your own pipeline with \`medallion init my-pipeline\`.\n`,
      );
    }
  } catch (error) {
    fail(error);
  }
}

export async function demoDataCommand(flags: { scale: number; seed: number; out: string }): Promise<void> {
  try {
    const result = await generateDemoData({ scale: flags.scale, seed: flags.seed, outDir: flags.out });
    for (const file of result.files) {
      process.stdout.write(`${file.path}  ${file.records} records, ${file.bytes} bytes\n`);
    }
  } catch (error) {
    fail(error);
  }
}

export async function initCommand(dir: string): Promise<void> {
  try {
    const written = await scaffoldProject(dir);
    process.stdout.write(
      `created ${written.join(', ')}\n\nRun it:\n  medallion run --pipeline ${path.join(dir, 'pipeline.mjs')} --source ${path.join(dir, 'source')} --lake ${path.join(dir, 'lake')}\n`,
    );
  } catch (error) {
    fail(error);
  }
}
