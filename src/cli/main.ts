#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { demoCommand, demoDataCommand, EXIT, initCommand, runCommand, schedulerCommand } from './commands.js';

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
  .option(
    '--db <url>',
    'metadata database: sqlite:PATH or postgres://… (default: $MEDALLION_DB or sqlite:.medallion/metadata.db)',
  )
  .option('--force', 'run every task, even those whose inputs are unchanged since their last success', false)
  .option(
    '--with-retries',
    "honour the tasks' retry policies (waiting their delays) instead of one try each",
    false,
  )
  .option('--json', 'print the run summary as one JSON document on stdout, and nothing else there', false)
  .action(runCommand);

program
  .command('scheduler')
  .description(
    'run pipelines on their schedules, and the runs others trigger, until stopped (SIGINT/SIGTERM)',
  )
  .requiredOption('--lake <location>', 'the lake: a directory, s3://bucket/prefix, or s3://')
  .option('--source <location>', "source files (default: the pipeline's)")
  .option(
    '--pipeline <file...>',
    'pipeline modules (default: the shipped medallion_data_pipeline and data_quality_checks)',
  )
  .option(
    '--db <url>',
    'metadata database: sqlite:PATH or postgres://… (default: $MEDALLION_DB or sqlite:.medallion/metadata.db)',
  )
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
  .action(schedulerCommand);

program
  .command('demo')
  .description(
    'generate sample data at scale 1 into .medallion/source, run the pipeline into .medallion/lake',
  )
  .option('--dir <dir>', 'working directory of the demo', '.medallion')
  .option('--scale <scale>', 'sample data scale', positiveNumber, 1)
  .option('--json', 'print the run summary as JSON', false)
  .action(demoCommand);

program
  .command('demo-data')
  .description("write the seed's three source files with realistic mess, deterministic per seed")
  .option('--scale <scale>', 'size: 1 ≈ 9,000 contracts and 50,000 establishments', positiveNumber, 1)
  .option('--seed <seed>', 'random seed', integer, 42)
  .requiredOption('--out <dir>', 'output directory')
  .action(demoDataCommand);

program
  .command('init')
  .description('scaffold a new pipeline project you can edit and run')
  .argument('<dir>', 'directory to create')
  .action(initCommand);

await program.parseAsync();
