#!/usr/bin/env node
/**
 * The `medallion` command. Only commander is loaded up front: each command's module (and what it needs: DuckDB,
 * the S3 client, a database driver) is imported when that command runs, so that `--version`, `runs` or `tasks`
 * start at once.
 */
import { Argument, Command, InvalidArgumentError, Option } from 'commander';

/** Exit codes (as in exit.ts, which this module does not load up front). */
const USAGE_EXIT = 2;

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

/** A backup's id: when it was made, as `medallion backup` names it. */
function backupId(value: string): string {
  if (!/^\d{8}T\d{9}Z$/.test(value))
    throw new InvalidArgumentError('expected a backup id such as 20240501T060000000Z');
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

type Modules = {
  commands: typeof import('./commands.js');
  run: typeof import('./run-commands.js');
  inspect: typeof import('./inspect-commands.js');
  pipelines: typeof import('./pipeline-commands.js');
  quality: typeof import('./quality-command.js');
  serve: typeof import('./serve-command.js');
  vacuum: typeof import('./vacuum-command.js');
  query: typeof import('./query-command.js');
  retention: typeof import('./retention-command.js');
  connections: typeof import('./connections-command.js');
  users: typeof import('./user-commands.js');
  fleet: typeof import('./fleet-command.js');
  tables: typeof import('./tables-command.js');
  backup: typeof import('./backup-command.js');
};

const loaders: { [K in keyof Modules]: () => Promise<Modules[K]> } = {
  commands: () => import('./commands.js'),
  run: () => import('./run-commands.js'),
  inspect: () => import('./inspect-commands.js'),
  pipelines: () => import('./pipeline-commands.js'),
  quality: () => import('./quality-command.js'),
  serve: () => import('./serve-command.js'),
  vacuum: () => import('./vacuum-command.js'),
  query: () => import('./query-command.js'),
  retention: () => import('./retention-command.js'),
  connections: () => import('./connections-command.js'),
  users: () => import('./user-commands.js'),
  fleet: () => import('./fleet-command.js'),
  tables: () => import('./tables-command.js'),
  backup: () => import('./backup-command.js'),
};

/** An action that loads its module when the command runs. */
function lazily<K extends keyof Modules>(
  module: K,
  pick: (loaded: Modules[K]) => (...args: never[]) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args) => {
    const action = pick(await loaders[module]()) as (...args: unknown[]) => Promise<void>;
    await action(...args);
  };
}

const DB_HELP =
  "metadata database: sqlite:PATH or postgres://… (default: $MEDALLION_DB, the project file's, or the lake's)";
const LAKE_DB_HELP = 'without a project file or --db: the lake whose metadata database to use';
const PIPELINE_HELP = 'a pipeline: its name in the project (or a shipped one), or a module file; repeatable';
const LAKE_HELP =
  "the lake: a directory, s3://bucket/prefix, or s3:// for a bucket per layer (default: the project's)";
const SOURCE_HELP =
  "source files: a directory or s3://bucket/prefix (default: the project's, or the pipeline's)";
const FORCE_HELP = 'run every task, even those whose inputs are unchanged since their last success';
const FULL_REFRESH_HELP =
  'rebuild incremental tables from all their input instead of merging only the rows that arrived';
const PARAM_HELP = 'a run parameter the pipeline declares (NAME=VALUE), repeatable';
const ALERTS_HELP = "alert rules and channels: a .json file or an .mjs module (default: the project file's)";

/**
 * The options every store command ends with: `--pipeline` for those that read definitions, `--db` and `--lake`
 * (which database), and `--json` (what it prints).
 */
function withStoreOptions(command: Command, json: string, definitions = false): Command {
  if (definitions) command.option('--pipeline <pipeline>', PIPELINE_HELP, collect, []);
  // Commands that create runs have a --lake of their own (the run's, whose database is then the default).
  if (!command.options.some((option) => option.long === '--lake'))
    command.option('--lake <location>', LAKE_DB_HELP);
  return command.option('--db <url>', DB_HELP).option('--json', json, false);
}

/** `--queues a,b`: queue names, checked as the project file checks them. */
function queueList(value: string): string[] {
  const names = value.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(name))
      throw new InvalidArgumentError(`"${name}" is not a queue name (lower-case letters, digits, - and _)`);
  }
  return names;
}

/** What every process that executes tasks shares: which pipelines, which database, how tries are run. */
function withProcessOptions(command: Command, queuesHelp: string): Command {
  return command
    .option('--pipeline <pipeline>', `${PIPELINE_HELP} (default: the project's pipelines)`, collect, [])
    .option('--db <url>', DB_HELP)
    .option('--queues <a,b>', queuesHelp, queueList)
    .option('--slots <n>', 'tasks run at once by this process (default 4)', positiveInteger)
    .option('--memory-limit <size>', "DuckDB's memory limit per run, e.g. 1GB")
    .option('--poll-ms <ms>', 'how often the database is read for work (default 1000)', positiveInteger)
    .option(
      '--heartbeat-ms <ms>',
      'how often running tasks and this process record that they are alive (default 5000)',
      positiveInteger,
    )
    .option(
      '--stale-after-ms <ms>',
      'a task or process silent this long is taken for dead (default 30000)',
      positiveInteger,
    )
    .option(
      '--drain-grace-ms <ms>',
      'on SIGTERM, how long running tasks may finish before they are handed back (default 60000)',
      integer,
    )
    .option(
      '--single-host',
      'every medallion process runs on this machine: allow SQLite metadata and local lakes for workers',
    );
}

/** What `scheduler` and `serve` share: which pipelines, where their scheduled runs go, and how work is run. */
function withSchedulerOptions(command: Command): Command {
  return withProcessOptions(
    command,
    'execute only the tasks of these queues (default: every queue; workers serve the others)',
  )
    .option('--lake <location>', `${LAKE_HELP}, for the runs this process schedules`)
    .option('--source <location>', SOURCE_HELP)
    .option('--no-execute', 'only create, start, advance and finish runs: workers execute the tasks')
    .option('--alerts <file>', ALERTS_HELP);
}

/** `--engine`: the engine of one run's silver and gold tables, over the project file's choice. */
function engineOption(): Option {
  return new Option(
    '--engine <engine>',
    "what computes the run's silver and gold tables (default: the project's, else duckdb); spark needs engine.spark.remote or MEDALLION_SPARK_REMOTE",
  ).choices(['duckdb', 'spark']);
}

const VERSION = '0.1.0';

const program = new Command()
  .name('medallion')
  .description('Lakehouse pipelines: landing → bronze → silver → gold Delta tables, in one program')
  .addHelpText('after', '\n`medallion --version` (or -V) prints the version.')
  .option(
    '--config <file>',
    'the project file (default: $MEDALLION_CONFIG, or medallion.config.json here or above)',
  )
  // Usage errors exit 2 like every other bad-input error; a failed run exits 1.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : USAGE_EXIT))
  .hook('preAction', async (root) => {
    (await import('./project-context.js')).useConfigFlag(root.opts<{ config?: string }>().config);
  });

program
  .command('run')
  .description('ingest new source files and refresh every table of a pipeline, here and now')
  .option('--pipeline <pipeline>', "which pipeline: a name or a module file (default: the project's one)")
  .option('--source <location>', SOURCE_HELP)
  .option('--lake <location>', LAKE_HELP)
  .addOption(engineOption())
  .option('--logical-date <date>', 'the date the run stands for (YYYY-MM-DD, default today)', isoDate)
  .option('--param <name=value>', PARAM_HELP, collect, [])
  .option('--retry-rejected', 'load files an earlier run rejected again', false)
  .option('--memory-limit <size>', "DuckDB's memory limit, e.g. 1GB")
  .option('--db <url>', DB_HELP)
  .option('--force', FORCE_HELP, false)
  .option('--full-refresh', FULL_REFRESH_HELP, false)
  .option(
    '--with-retries',
    "honour the tasks' retry policies (waiting their delays) instead of one try each",
    false,
  )
  .option('--no-wait', 'when another run of the pipeline holds the lake, exit 2 naming it instead of waiting')
  .option('--alerts <file>', ALERTS_HELP)
  .option('--json', 'print the run summary as one JSON document on stdout, and nothing else there', false)
  .action(lazily('commands', (m) => m.runCommand));

withSchedulerOptions(
  program
    .command('scheduler')
    .description(
      'run pipelines on their schedules, and the runs others trigger, until stopped (SIGINT/SIGTERM)',
    ),
).action(lazily('commands', (m) => m.schedulerCommand));

withProcessOptions(
  program
    .command('worker')
    .description(
      'execute the queued tasks of runs that schedulers start, on this machine, until stopped (SIGTERM drains)',
    ),
  'the queues it serves (default: default)',
)
  .option('--name <name>', 'its name in attempts and in `medallion workers` (default host:pid:random)')
  .action(lazily('commands', (m) => m.workerCommand));

withSchedulerOptions(
  program
    .command('serve')
    .description(
      'the scheduler plus the web UI and its HTTP API, behind sign-ins (medallion users add), until stopped',
    ),
)
  .option('--port <n>', 'HTTP port (0: any free one; default 8080)', port)
  .option('--host <address>', 'address to listen on (default 127.0.0.1)')
  .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM; with --tls-key)')
  .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
  .action(lazily('serve', (m) => m.serveCommand));

withStoreOptions(
  program.command('pipelines').description('the pipelines: schedule, next run, last run, success rate, lake'),
  'print the pipelines as JSON',
  true,
).action(lazily('pipelines', (m) => m.pipelinesCommand));

withStoreOptions(
  program
    .command('trigger')
    .description('queue a manual run of a pipeline for a scheduler; prints its id')
    .argument('<pipeline>', 'pipeline name')
    .option('--lake <location>', LAKE_HELP)
    .option('--source <location>', SOURCE_HELP)
    .addOption(engineOption())
    .option('--param <name=value>', PARAM_HELP, collect, [])
    .option('--logical-date <date>', 'the date the run stands for (YYYY-MM-DD, default now)', isoDate)
    .option('--force', FORCE_HELP, false)
    .option('--full-refresh', FULL_REFRESH_HELP, false)
    .option('--wait', 'wait for the run to end: exit 0 when it succeeds, 1 when it fails', false)
    .option('--poll-ms <ms>', 'with --wait: how often the run is looked at', positiveInteger, 500),
  'print the run record as JSON',
  true,
).action(lazily('run', (m) => m.triggerCommand));

withStoreOptions(
  program
    .command('runs')
    .description('list runs, newest logical date first')
    .option('--pipeline <name>', "only this pipeline's runs")
    .addOption(
      new Option('--state <state>', 'only runs in this state').choices([
        'queued',
        'running',
        'success',
        'failed',
        'cancelled',
      ]),
    )
    .option('--limit <n>', 'at most this many', positiveInteger, 20),
  'print the run records as JSON',
).action(lazily('inspect', (m) => m.runsCommand));

withStoreOptions(
  program
    .command('workers')
    .description('the medallion processes: kind, host, queues, slots, running tries, last seen')
    .option('--all', 'also those that stopped or went silent', false),
  'print the processes as JSON',
).action(lazily('fleet', (m) => m.workersCommand));

withStoreOptions(
  program
    .command('tasks')
    .description("a run's tasks: state, tries, duration and reason of the latest try")
    .argument('<run>', 'run id'),
  'print the run and its tasks as JSON',
).action(lazily('inspect', (m) => m.tasksCommand));

withStoreOptions(
  program
    .command('quality')
    .description(
      'what the expectations found in a run: passed, warned, quarantined or failed, with an example row',
    )
    .argument('[run]', 'run id (default: the latest finished run)')
    .option('--pipeline <name>', 'the latest finished run of this pipeline'),
  'print the results as JSON',
).action(lazily('quality', (m) => m.qualityCommand));

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
).action(lazily('inspect', (m) => m.logsCommand));

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
  ).action(
    lazily(
      'pipelines',
      (m) => (name: string, flags: Parameters<typeof m.setPausedCommand>[1]) =>
        m.setPausedCommand(name, flags, paused),
    ),
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
    .option('--lake <location>', LAKE_HELP)
    .option('--source <location>', SOURCE_HELP)
    .option('--param <name=value>', PARAM_HELP, collect, [])
    .option('--force', FORCE_HELP, false),
  'print the runs as JSON',
  true,
).action(lazily('run', (m) => m.backfillCommand));

withStoreOptions(
  program
    .command('clear')
    .description(
      'run the failed or cancelled tasks of a run again (and those that did not run because of them), on its own lake',
    )
    .argument('<run>', 'run id')
    .option(
      '--task <task>',
      'only this task, repeatable (default: every failed or cancelled task)',
      collect,
      [],
    ),
  'print the cleared tasks as JSON',
  true,
).action(lazily('run', (m) => m.clearCommand));

withStoreOptions(
  program
    .command('cancel')
    .description('stop a run wherever it runs: its running tasks are interrupted, the others never start')
    .argument('<run>', 'run id')
    .option('--wait', 'wait until the run has stopped', false)
    .option('--poll-ms <ms>', 'with --wait: how often the run is looked at', positiveInteger, 500),
  'print the run as JSON',
).action(lazily('run', (m) => m.cancelCommand));

program
  .command('vacuum')
  .description(
    "delete the data files of table versions older than the retention (overwritten silver and gold tables' old files)",
  )
  .option('--lake <location>', "the lake (default: the project's one lake)")
  .option('--db <url>', `${DB_HELP} (for named connections)`)
  .option(
    '--retain <duration>',
    'keep every version readable this far back: 90m, 168h, 30d (at least 1h unless --force-short-retention)',
    '168h',
  )
  .option('--force-short-retention', 'allow --retain under 1h (readers of older versions may break)', false)
  .option('--dry-run', 'list what would be deleted, delete nothing', false)
  .option('--json', 'print the result per table, with the keys, as JSON', false)
  .action(lazily('vacuum', (m) => m.vacuumCommand));

/** A table version: a whole number from 0. */
function tableVersion(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a table version, a whole number from 0');
  return Number(value);
}

const TABLE_ARG = 'the table, as layer.table (e.g. gold.top_100_companies)';

/** What every `tables` command takes: which lake, which database (for named connections), JSON or not. */
function withTablesOptions(command: Command, json: string): Command {
  return command
    .option('--lake <location>', "the lake (default: the project's one lake)")
    .option('--db <url>', `${DB_HELP} (for named connections)`)
    .option('--json', json, false);
}

const tables = program
  .command('tables')
  .description(
    'the lake’s tables: list them, their history, rows at a version or time, differences, restore',
  );

withTablesOptions(
  tables
    .command('list', { isDefault: true })
    .description(
      'every table (also `medallion tables`): layer, version, rows, size, last commit, run; stale ones marked',
    ),
  'print the tables as JSON',
).action(lazily('tables', (m) => m.tablesCommand));

withTablesOptions(
  tables
    .command('history')
    .description("a table's versions, newest first: time, operation, run, rows added and removed")
    .argument('<table>', TABLE_ARG)
    .option('--limit <n>', 'at most this many versions', positiveInteger, 20),
  'print the versions as JSON',
).action(lazily('tables', (m) => m.historyCommand));

withTablesOptions(
  tables
    .command('show')
    .description("a table's schema and first rows, at its latest version, an older one, or as of a time")
    .argument('<table>', TABLE_ARG)
    .option('--version <n>', 'this version (default: the latest)', tableVersion)
    .addOption(
      new Option(
        '--as-of <time>',
        'the newest version committed at or before: YYYY-MM-DD (midnight UTC) or an ISO instant',
      )
        .argParser(dateOrInstant)
        .conflicts('version'),
    )
    .option('--limit <n>', 'rows shown (at most 500)', positiveInteger, 20),
  'print the table and its rows as JSON',
).action(lazily('tables', (m) => m.showCommand));

withTablesOptions(
  tables
    .command('diff')
    .description('the rows one version added and removed against another: counts and a sample of each')
    .argument('<table>', TABLE_ARG)
    .requiredOption('--from <n>', 'the version compared from', tableVersion)
    .requiredOption('--to <n>', 'the version compared to', tableVersion),
  'print the difference as JSON',
).action(lazily('tables', (m) => m.diffCommand));

withTablesOptions(
  tables
    .command('restore')
    .description(
      'bring an older version back as a new commit; the tables that read it are rebuilt by the next run',
    )
    .argument('<table>', TABLE_ARG)
    .requiredOption('--version <n>', 'the version to bring back', tableVersion),
  'print the new version as JSON',
).action(lazily('tables', (m) => m.restoreCommand));
program
  .command('query')
  .description(
    "run one read-only SELECT over the lake's tables, named layer.table (e.g. gold.top_100_companies), now or as of a past time",
  )
  .argument('<sql>', 'one SELECT statement (WITH, DESCRIBE and SUMMARIZE too)')
  .option(
    '--as-of <time>',
    'read each table as it was then (its latest version committed by then): YYYY-MM-DD (UTC) or an ISO instant',
    dateOrInstant,
  )
  .addOption(
    new Option('--format <format>', 'table (for people), csv, json (an array of objects) or parquet')
      .choices(['table', 'csv', 'json', 'parquet'])
      .default('table'),
  )
  .option('--out <file>', 'write the csv, json or parquet result to this file (parquet needs it), not stdout')
  .option(
    '--limit <n>',
    'with --format table: rows shown (default 100); the others are counted',
    positiveInteger,
  )
  .option('--lake <location>', "the lake (default: the project's one lake)")
  .option('--db <url>', `${DB_HELP} (for named connections)`)
  .action(lazily('query', (m) => m.queryCommand));
withStoreOptions(
  program
    .command('backup')
    .description(
      'copy the metadata database (a consistent snapshot) and every file of the lakes to a backup location; only files it does not hold yet are copied',
    )
    .requiredOption('--to <location>', 'where backups are kept: a directory or s3://[NAME@]bucket/prefix')
    .option(
      '--lake <location>',
      "back up this lake, repeatable (default: every lake of the project's pipelines)",
      collect,
      [],
    ),
  'print what was backed up as JSON',
).action(lazily('backup', (m) => m.backupCommand));

withStoreOptions(
  program
    .command('restore')
    .description(
      'bring a backup back: the metadata database (into an empty one) and every lake file missing or changed, each checked against its checksum first',
    )
    .requiredOption('--from <location>', 'the backup location `medallion backup --to` wrote')
    .option('--backup <id>', 'which backup, e.g. 20240501T060000000Z (default: the latest)', backupId)
    .option(
      '--force',
      'replace what the metadata database holds instead of refusing a database that is not empty',
      false,
    )
    .addOption(
      new Option('--check', 'only check every file of the backup against its checksum')
        .default(false)
        .conflicts('force'),
    )
    .addOption(
      new Option('--list', 'only list the backups at the location')
        .default(false)
        .conflicts(['force', 'check', 'backup']),
    ),
  'print what was restored, checked or listed as JSON',
).action(lazily('backup', (m) => m.restoreCommand));
program
  .command('retention')
  .description(
    "apply the project file's retention to a lake, as data_quality_checks' retention task does: loaded landing copies, old versions' data files, files of crashed tries",
  )
  .option(
    '--pipeline <name>',
    "whose retention (its entry's over the file's): default data_quality_checks, else the file's",
  )
  .option('--lake <location>', "the lake (default: that pipeline's, or the project's one lake)")
  .option('--db <url>', `${DB_HELP} (for named connections)`)
  .option('--dry-run', 'count and list what would be deleted, delete nothing', false)
  .option('--json', 'print the result per layer, with the keys, as JSON', false)
  .action(lazily('retention', (m) => m.retentionCommand));

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
  .option('--lake <location>', LAKE_DB_HELP)
  .action(lazily('connections', (m) => m.addConnectionCommand));

withStoreOptions(
  connections
    .command('list')
    .description('list the connections: endpoint, region, access key id masked; never a secret'),
  'print the connections as JSON',
).action(lazily('connections', (m) => m.listConnectionsCommand));

withStoreOptions(
  connections
    .command('test')
    .description("check that the connection's endpoint answers and accepts its credentials")
    .argument('<name>', 'connection name')
    .option('--bucket <bucket>', 'check this bucket too'),
  'print the result as JSON',
).action(lazily('connections', (m) => m.testConnectionCommand));

connections
  .command('remove')
  .description('remove a connection')
  .argument('<name>', 'connection name')
  .option('--db <url>', DB_HELP)
  .option('--lake <location>', LAKE_DB_HELP)
  .action(lazily('connections', (m) => m.removeConnectionCommand));

const users = program.command('users').description('who may sign in to `medallion serve`, with which role');

withStoreOptions(
  users
    .command('add')
    .description('add a user; the password comes from a prompt, or standard input (--password-stdin)')
    .argument('<name>', 'user name')
    .addOption(
      new Option(
        '--role <role>',
        'viewer (reads), operator (also acts on runs) or admin (also users, connections)',
      )
        .choices(['viewer', 'operator', 'admin'])
        .makeOptionMandatory(),
    )
    .option('--password-stdin', 'read the password from standard input', false),
  'print the user as JSON',
).action(lazily('users', (m) => m.addUserCommand));

withStoreOptions(
  users.command('list').description('the users and their roles'),
  'print the users as JSON',
).action(lazily('users', (m) => m.listUsersCommand));

withStoreOptions(
  users
    .command('set-role')
    .description("change a user's role (their sessions end)")
    .argument('<name>', 'user name')
    .addArgument(new Argument('<role>', 'the new role').choices(['viewer', 'operator', 'admin'])),
  'print the user as JSON',
).action(lazily('users', (m) => m.setRoleCommand));

withStoreOptions(
  users
    .command('set-password')
    .description("change a user's password (their sessions end)")
    .argument('<name>', 'user name')
    .option('--password-stdin', 'read the password from standard input', false),
  'print nothing but errors',
).action(lazily('users', (m) => m.setPasswordCommand));

withStoreOptions(
  users
    .command('remove')
    .description('remove a user, their sessions and tokens')
    .argument('<name>', 'user name'),
  'print nothing but errors',
).action(lazily('users', (m) => m.removeUserCommand));

const tokens = program
  .command('tokens')
  .description('personal API tokens for scripts and Prometheus (Authorization: Bearer …)');

withStoreOptions(
  tokens
    .command('add')
    .description('make a token for a user: printed once, never again')
    .argument('<name>', 'what it is for, e.g. prometheus')
    .requiredOption('--user <name>', 'whose token (it has their role)')
    .option('--expires <duration>', 'it stops working after this long, e.g. 90d'),
  'print the token and its record as JSON',
).action(lazily('users', (m) => m.addTokenCommand));

withStoreOptions(
  tokens
    .command('list')
    .description('the tokens (never their secrets)')
    .option('--user <name>', "only this user's"),
  'print the tokens as JSON',
).action(lazily('users', (m) => m.listTokensCommand));

withStoreOptions(
  tokens.command('revoke').description('revoke a token at once').argument('<id>', 'token id'),
  'print nothing but errors',
).action(lazily('users', (m) => m.revokeTokenCommand));

program
  .command('demo')
  .description(
    'generate sample data at scale 1 into .medallion/source, run the pipeline into .medallion/lake',
  )
  .option('--dir <dir>', 'working directory of the demo', '.medallion')
  .option('--scale <scale>', 'sample data scale', positiveNumber, 1)
  .option(
    '--serve',
    'then serve the web UI on 127.0.0.1 (an admin password is made up and shown once)',
    false,
  )
  .option('--port <n>', 'with --serve: HTTP port (default 8080)', port)
  .option('--json', 'print the run summary as JSON', false)
  .action(lazily('commands', (m) => m.demoCommand));

program
  .command('demo-data')
  .description("write the seed's three source files with realistic mess, deterministic per seed")
  .option('--scale <scale>', 'size: 1 ≈ 9,000 contracts and 50,000 establishments', positiveNumber, 1)
  .option('--seed <seed>', 'random seed', integer, 42)
  .requiredOption('--out <dir>', 'output directory')
  .action(lazily('commands', (m) => m.demoDataCommand));

program
  .command('init')
  .description(
    'scaffold a new project (medallion.config.json, a pipeline, sample files) you can edit and run',
  )
  .argument('<dir>', 'directory to create')
  .action(lazily('commands', (m) => m.initCommand));

/** A usage error is one line, then where to read more: not the whole help. */
function oneLineUsageErrors(command: Command, path: string): void {
  command.configureOutput({
    outputError: (message, write) =>
      write(`medallion: ${message.replace(/^error: /, '').trimEnd()}\nsee ${path} --help\n`),
  });
  for (const sub of command.commands) oneLineUsageErrors(sub, `${path} ${sub.name()}`);
}
oneLineUsageErrors(program, 'medallion');

// `--version` is answered here rather than by commander, whose program option would take a subcommand's own
// `--version N` (`tables show T --version 3`) for itself wherever it stands.
if (['--version', '-V'].includes(process.argv[2] ?? '') && process.argv.length === 3) {
  process.stdout.write(`${VERSION}\n`);
  process.exit(0);
}

// `medallion run | head`: a reader that goes away is not the run's failure.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

await program.parseAsync();
