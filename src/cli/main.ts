#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { EXIT } from './exit.js';
import {
  backfillCommand,
  clearCommand,
  logsCommand,
  RUN_STATES,
  runsCommand,
  setPausedCommand,
  tasksCommand,
  triggerCommand,
} from './orchestration-commands.js';
import { qualityCommand } from './quality-command.js';
import { serveCommand } from './serve-command.js';

function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive number');
  return parsed;
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError('expected a positive whole number');
  return parsed;
}

function integer(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) throw new InvalidArgumentError('expected an integer');
  return parsed;
}

function isoDate(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('expected a date as YYYY-MM-DD');
  }
  return value;
}

/** A date (YYYY-MM-DD, midnight UTC) or an ISO 8601 instant with its offset. */
function dateOrInstant(value: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return isoDate(value);
  if (!/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('expected a date as YYYY-MM-DD or an instant as 2024-05-01T06:00:00Z');
  }
  return value;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535)
    throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return parsed;
}

/** For repeatable options: each use adds one value. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * A command of commands.ts, loaded when it runs: it brings DuckDB, the runner and the S3 client, which the
 * commands that only read the metadata store (runs, tasks, logs…) do without.
 */
function lazily(name: keyof typeof import('./commands.js')) {
  return async (...args: unknown[]): Promise<void> => {
    const action = (await import('./commands.js'))[name] as (...args: unknown[]) => Promise<void>;
    await action(...args);
  };
}

const DB_HELP =
  'metadata database: sqlite:PATH or postgres://… (default: $MEDALLION_DB or sqlite:.medallion/metadata.db)';
const PIPELINE_HELP =
  'a pipeline module, repeatable (default: the shipped medallion_data_pipeline and data_quality_checks)';

const FORCE_HELP = 'run every task, even those whose inputs are unchanged since their last success';
const PARAM_HELP = 'a run parameter the pipeline declares, repeatable';

/**
 * The options every run-control command ends with: `--pipeline` for those that read definitions, `--db`, and
 * `--json` (what it prints).
 */
function withStoreOptions(command: Command, json: string, definitions = false): Command {
  if (definitions) command.option('--pipeline <file>', PIPELINE_HELP, collect, []);
  return command.option('--db <url>', DB_HELP).option('--json', json, false);
}

/** What `scheduler` and `serve` share: where the pipelines, the data and the runs are, and how work is run. */
function withSchedulerOptions(command: Command): Command {
  return command
    .requiredOption('--lake <location>', 'the lake: a directory, s3://bucket/prefix, or s3://')
    .option('--source <location>', "source files (default: the pipeline's)")
    .option(
      '--pipeline <file...>',
      'pipeline modules (default: the shipped medallion_data_pipeline and data_quality_checks)',
    )
    .option('--db <url>', DB_HELP)
    .option('--slots <n>', 'tasks run at once by this process', positiveInteger, 4)
    .option('--memory-limit <size>', "DuckDB's memory limit per run, e.g. 1GB")
    .option('--poll-ms <ms>', 'how often the database is read for work', positiveInteger, 1000)
    .option('--heartbeat-ms <ms>', 'how often a running task records that it is alive', positiveInteger, 5000)
    .option(
      '--stale-after-ms <ms>',
      'a task silent this long is failed and retried per policy',
      positiveInteger,
      30000,
    )
    .option('--alerts <file>', ALERTS_HELP);
}

const ALERTS_HELP = 'alert rules and channels: a .json file or an .mjs module (see README, Alerts)';

const program = new Command()
  .name('medallion')
  .description('Lakehouse pipelines: landing → bronze → silver → gold Delta tables, in one program')
  .version('0.1.0')
  .showHelpAfterError()
  // Usage errors exit 2 like every other bad-input error; a failed run exits 1.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT.usage));

program
  .command('run')
  .description('ingest new source files and refresh every table of the pipeline')
  .option('--source <location>', "source files: a directory or s3://bucket/prefix (default: the pipeline's)")
  .requiredOption(
    '--lake <location>',
    'the lake: a directory, s3://bucket/prefix, or s3:// for one bucket per layer (created when missing)',
  )
  .option('--pipeline <file>', 'pipeline module (default: the shipped medallion_data_pipeline)')
  .option('--logical-date <date>', 'the date the run stands for (YYYY-MM-DD, default today)', isoDate)
  .option('--retry-rejected', 'load files an earlier run rejected again', false)
  .option('--memory-limit <size>', "DuckDB's memory limit, e.g. 1GB")
  .option('--db <url>', DB_HELP)
  .option('--force', FORCE_HELP, false)
  .option(
    '--with-retries',
    "honour the tasks' retry policies (waiting their delays) instead of one try each",
    false,
  )
  .option('--alerts <file>', ALERTS_HELP)
  .option('--json', 'print the run summary as one JSON document on stdout, and nothing else there', false)
  .action(lazily('runCommand'));

withSchedulerOptions(
  program
    .command('scheduler')
    .description(
      'run pipelines on their schedules, and the runs others trigger, until stopped (SIGINT/SIGTERM)',
    ),
).action(lazily('schedulerCommand'));

withSchedulerOptions(
  program
    .command('serve')
    .description(
      'the scheduler plus the HTTP API (bearer token: $MEDALLION_API_TOKEN, else one printed at start), until stopped',
    ),
)
  .option('--port <n>', 'HTTP port (0: any free one)', port, 8080)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .action(serveCommand);

withStoreOptions(
  program
    .command('trigger')
    .description('queue a manual run of a pipeline for a scheduler; prints its id')
    .argument('<pipeline>', 'pipeline name')
    .option('--param <name=value>', PARAM_HELP, collect, [])
    .option('--logical-date <date>', 'the date the run stands for (YYYY-MM-DD, default now)', isoDate)
    .option('--force', FORCE_HELP, false)
    .option('--wait', 'wait for the run to end: exit 0 when it succeeds, 1 when it fails', false)
    .option('--poll-ms <ms>', 'with --wait: how often the run is looked at', positiveInteger, 500),
  'print the run record as JSON',
  true,
).action(triggerCommand);

withStoreOptions(
  program
    .command('runs')
    .description('list runs, newest logical date first')
    .option('--pipeline-name <name>', "only this pipeline's runs")
    .addOption(new Option('--state <state>', 'only runs in this state').choices(RUN_STATES))
    .option('--limit <n>', 'at most this many', positiveInteger, 20),
  'print the run records as JSON',
).action(runsCommand);

withStoreOptions(
  program
    .command('tasks')
    .description("a run's tasks: state, tries, duration and reason of the latest try")
    .argument('<run>', 'run id'),
  'print the run and its tasks as JSON',
).action(tasksCommand);

withStoreOptions(
  program
    .command('quality')
    .description(
      'what the expectations found in a run: passed, warned, quarantined or failed, with an example row',
    )
    .argument('[run]', 'run id (default: the latest finished run)')
    .option('--pipeline-name <name>', 'the latest finished run of this pipeline'),
  'print the results as JSON',
).action(qualityCommand);

withStoreOptions(
  program
    .command('logs')
    .description("print the log of a task's try (default: its latest)")
    .argument('<run>', 'run id')
    .argument('<task>', 'task id, e.g. silver.marches_publics')
    .option('--attempt <n>', 'which try (1-based)', positiveInteger)
    .option(
      '--follow',
      'print lines as they come until the try ends (waiting for a pending one); exit 1 if it failed',
      false,
    )
    .option('--poll-ms <ms>', 'with --follow: how often the log is read', positiveInteger, 500),
  'print the try and its lines as one JSON document (at the end with --follow)',
).action(logsCommand);

for (const paused of [true, false]) {
  withStoreOptions(
    program
      .command(paused ? 'pause' : 'unpause')
      .description(
        paused
          ? 'stop creating and starting runs of a pipeline (running tasks finish)'
          : 'let schedulers create and start runs of a pipeline again',
      )
      .argument('<pipeline>', 'pipeline name'),
    'print the result as JSON',
    true,
  ).action((name: string, flags: { db?: string; pipeline: string[]; json: boolean }) =>
    setPausedCommand(name, flags, paused),
  );
}

withStoreOptions(
  program
    .command('backfill')
    .description(
      'queue a run for every schedule interval starting between --from and --to (inclusive); intervals with a run keep it',
    )
    .argument('<pipeline>', 'pipeline name')
    .requiredOption(
      '--from <date>',
      'first interval start: YYYY-MM-DD (UTC) or an ISO instant',
      dateOrInstant,
    )
    .requiredOption('--to <date>', 'last interval start: YYYY-MM-DD (UTC) or an ISO instant', dateOrInstant)
    .option('--param <name=value>', PARAM_HELP, collect, [])
    .option('--force', FORCE_HELP, false),
  'print the runs as JSON',
  true,
).action(backfillCommand);

withStoreOptions(
  program
    .command('clear')
    .description('run the failed tasks of a run again (and those that did not run because of them)')
    .argument('<run>', 'run id')
    .option('--task <task>', 'only this failed task, repeatable (default: every failed task)', collect, []),
  'print the cleared tasks as JSON',
  true,
).action(clearCommand);

program
  .command('vacuum')
  .description(
    "delete the data files of table versions older than the retention (overwritten silver and gold tables' old files)",
  )
  .requiredOption('--lake <location>', 'the lake: a directory, s3://bucket/prefix, or s3://')
  .option(
    '--retain <duration>',
    'keep every version readable this far back: 90m, 168h, 30d (at least 1h unless --force-short-retention)',
    '168h',
  )
  .option('--force-short-retention', 'allow --retain under 1h (readers of older versions may break)', false)
  .option('--dry-run', 'list what would be deleted, delete nothing', false)
  .option('--json', 'print the result per table, with the keys, as JSON', false)
  .action(async (flags: import('./vacuum-command.js').VacuumFlags) => {
    await (await import('./vacuum-command.js')).vacuumCommand(flags);
  });

const connections = program
  .command('connections')
  .description(
    'named S3 connections for --source/--lake s3://NAME@bucket/prefix (secrets encrypted at rest)',
  );

connections
  .command('add')
  .description(
    'add (or replace) a connection; its secret is encrypted with $MEDALLION_SECRET_KEY or .medallion/secret.key',
  )
  .argument('<name>', 'connection name: lower_snake_case or kebab-case')
  .option('--endpoint <url>', 'S3 endpoint, e.g. http://127.0.0.1:9000 (default: AWS S3)')
  .requiredOption('--region <region>', 'region, e.g. us-east-1')
  .option('--path-style', 'path-style bucket addressing (default: on with --endpoint)')
  .option('--no-path-style', 'virtual-hosted bucket addressing')
  .requiredOption('--access-key-id <id>', 'access key id')
  .option('--secret-from-env <var>', 'read the secret access key from this environment variable')
  .option('--secret-stdin', 'read the secret access key from standard input')
  .option('--db <url>', DB_HELP)
  .action(async (name: string, flags: import('./connections-command.js').AddConnectionFlags) => {
    await (await import('./connections-command.js')).addConnectionCommand(name, flags);
  });

connections
  .command('list')
  .description('list the connections: endpoint, region, access key id masked; never a secret')
  .option('--db <url>', DB_HELP)
  .option('--json', 'print the connections as JSON', false)
  .action(async (flags: { db?: string; json: boolean }) => {
    await (await import('./connections-command.js')).listConnectionsCommand(flags);
  });

connections
  .command('remove')
  .description('remove a connection')
  .argument('<name>', 'connection name')
  .option('--db <url>', DB_HELP)
  .action(async (name: string, flags: { db?: string }) => {
    await (await import('./connections-command.js')).removeConnectionCommand(name, flags);
  });

program
  .command('demo')
  .description(
    'generate sample data at scale 1 into .medallion/source, run the pipeline into .medallion/lake',
  )
  .option('--dir <dir>', 'working directory of the demo', '.medallion')
  .option('--scale <scale>', 'sample data scale', positiveNumber, 1)
  .option('--json', 'print the run summary as JSON', false)
  .action(lazily('demoCommand'));

program
  .command('demo-data')
  .description("write the seed's three source files with realistic mess, deterministic per seed")
  .option('--scale <scale>', 'size: 1 ≈ 9,000 contracts and 50,000 establishments', positiveNumber, 1)
  .option('--seed <seed>', 'random seed', integer, 42)
  .requiredOption('--out <dir>', 'output directory')
  .action(lazily('demoDataCommand'));

program
  .command('init')
  .description('scaffold a new pipeline project you can edit and run')
  .argument('<dir>', 'directory to create')
  .action(lazily('initCommand'));

await program.parseAsync();
