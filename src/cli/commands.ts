import { existsSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openAlerter } from '../alerts/alerter.js';
import { parseParamPairs } from '../core/params.js';
import { generateDemoData } from '../demo-data/generate.js';
import { openMetadataStore } from '../metadata/open.js';
import type { EngineKind } from '../core/pipeline.js';
import { runPipeline } from '../runner/run-pipeline.js';
import type { RunSummary } from '../runner/run-summary.js';
import { storeConnections } from '../app/connections.js';
import { EXIT, fail } from './exit.js';
import { scaffoldProject } from './init-project.js';
import { openLake, openSource, storeSettings } from '../project/locations.js';
import { startScheduler, startWorker, type SchedulerFlags } from './orchestration.js';
import { note } from './output.js';
import { openProject, useConfigFlag } from './project-context.js';
import { progressOnStderr, renderSummary } from './render.js';

// In a module of their own, so that main.ts and the light commands need not load what the runner needs.
export { EXIT, fail } from './exit.js';

interface RunFlags {
  pipeline?: string;
  source?: string;
  lake?: string;
  engine?: EngineKind;
  logicalDate?: string;
  param?: string[];
  retryRejected?: boolean;
  memoryLimit?: string;
  db?: string;
  force?: boolean;
  fullRefresh?: boolean;
  withRetries?: boolean;
  /** False with --no-wait: fail at once when another run holds the lake's lock. */
  wait?: boolean;
  alerts?: string;
  json?: boolean;
}

/** Exit codes of a run stopped by a signal, as shells report them (128 + the signal's number). */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };
/** A run told to stop ends within this long, or the process exits anyway (the next run finds it abandoned). */
const STOP_DEADLINE_MS = 4_500;

/**
 * SIGINT and SIGTERM stop the run (its tries interrupted, the run failed, its summary printed); a second signal,
 * or a run not stopped within the deadline, exits at once.
 */
function stopOnSignals(): {
  signal: AbortSignal;
  received: () => NodeJS.Signals | undefined;
  dispose(): void;
} {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    const code = SIGNAL_EXIT[signal] ?? EXIT.runFailed;
    if (received) process.exit(code);
    received = signal;
    note(`medallion: ${signal}: stopping the run (its running tasks are interrupted)`);
    controller.abort(new Error(`interrupted (${signal})`));
    setTimeout(() => {
      note(`medallion: the run did not stop within ${STOP_DEADLINE_MS / 1000} s; exiting`);
      process.exit(code);
    }, STOP_DEADLINE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    received: () => received,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

async function execute(flags: RunFlags, signal?: AbortSignal): Promise<RunSummary> {
  const project = await openProject();
  const pipeline = await project.pipeline(flags.pipeline);
  const locations = project.requireLocations(pipeline, flags);
  const store = await openMetadataStore(project.databaseUrl(flags.db, locations.lake));
  try {
    const settings = storeSettings(process.env, storeConnections(store));
    const alerts = project.alerts(flags.alerts);
    const alerter = alerts ? await openAlerter(alerts, store) : undefined;
    try {
      return await runPipeline({
        store,
        ...(alerter && { observer: alerter }),
        force: flags.force ?? false,
        fullRefresh: flags.fullRefresh ?? false,
        retries: flags.withRetries ?? false,
        pipeline,
        ...(locations.source !== null && { source: await openSource(locations.source, settings) }),
        lake: await openLake(locations.lake, settings),
        locations,
        retryRejected: flags.retryRejected ?? false,
        waitForLock: flags.wait !== false,
        ...(flags.param?.length && { params: parseParamPairs(flags.param) }),
        ...(flags.logicalDate ? { logicalDate: flags.logicalDate } : {}),
        ...project.engine(flags),
        ...(signal && { signal }),
        progress: progressOnStderr(),
      });
    } finally {
      await alerter?.close();
    }
  } finally {
    await store.close();
  }
}

export async function schedulerCommand(flags: SchedulerFlags): Promise<void> {
  try {
    const { done } = await startScheduler(flags, 'scheduler');
    await done;
  } catch (error) {
    fail(error);
  }
}

export async function workerCommand(flags: SchedulerFlags): Promise<void> {
  try {
    const { done } = await startWorker(flags);
    await done;
  } catch (error) {
    fail(error);
  }
}

function report(summary: RunSummary, json: boolean | undefined): void {
  process.stdout.write(json ? `${JSON.stringify(summary, null, 2)}\n` : `\n${renderSummary(summary)}\n`);
  process.exitCode = summary.status === 'success' ? EXIT.ok : EXIT.runFailed;
}

export async function runCommand(flags: RunFlags): Promise<void> {
  const signals = stopOnSignals();
  try {
    report(await execute(flags, signals.signal), flags.json);
    const signal = signals.received();
    if (signal) process.exitCode = SIGNAL_EXIT[signal] ?? EXIT.runFailed;
  } catch (error) {
    fail(error);
  } finally {
    signals.dispose();
  }
}

/** The demo's project file: its pipelines read the generated files and write the lake beside them. */
const DEMO_PROJECT = {
  database: 'sqlite:metadata.db',
  source: 'source',
  lake: 'lake',
  pipelines: { medallion_data_pipeline: {}, data_quality_checks: {} },
};

export async function demoCommand(flags: {
  dir: string;
  scale: number;
  json: boolean;
  serve: boolean;
  port?: number;
}): Promise<void> {
  const signals = stopOnSignals();
  try {
    const source = path.join(flags.dir, 'source');
    const present = await stat(path.join(source, 'aws-marchespublics-annee-2022.json')).catch(
      () => undefined,
    );
    if (!present) {
      note(`generating sample data (scale ${flags.scale}) into ${source}`);
      await generateDemoData({ scale: flags.scale, seed: 42, outDir: source });
    }
    const config = path.join(flags.dir, 'medallion.config.json');
    if (!existsSync(config)) {
      await mkdir(flags.dir, { recursive: true });
      await writeFile(config, `${JSON.stringify(DEMO_PROJECT, null, 2)}\n`);
    }
    useConfigFlag(config);
    report(await execute({}, signals.signal), flags.json);
    if (flags.serve) {
      signals.dispose();
      const { serve } = await import('./serve-command.js');
      await serve(
        { ...(flags.port !== undefined && { port: flags.port }) },
        {
          makeUpFirstAdmin: true,
          announce: (url, madeUp) =>
            note(
              `\nOpen ${url} in a browser and sign in ${madeUp ? 'as admin with the password above' : 'with your user (`medallion users list`)'}.`,
            ),
        },
      );
      return;
    }
    if (!flags.json) {
      const lake = path.join(flags.dir, 'lake');
      process.stdout.write(
        `\nThe lake is in ${lake}: Delta tables under bronze/, silver/, gold/ and quarantine/.\n` +
          `The project file ${config} binds the pipelines to it: from ${flags.dir}, \`npx medallion runs\`, ` +
          `\`npx medallion pipelines\`, \`npx medallion scheduler\` use it (elsewhere: add --config ${config}).\n` +
          `Next: add files to ${source} and run again, or start your own project with \`medallion init my-project\`.\n`,
      );
    }
  } catch (error) {
    fail(error);
  } finally {
    signals.dispose();
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
    process.stdout.write(`created ${written.join(', ')}\n\nRun it:\n  cd ${dir} && npx medallion run\n`);
  } catch (error) {
    fail(error);
  }
}
