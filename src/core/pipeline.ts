import { z } from 'zod';
import { ConfigError } from './errors.js';
import type { LakeLayout } from '../table/lake-layout.js';
import { expectationSchema, type Expectation } from './expectations.js';
import { checkParamDefault } from './params.js';
import { validateSchedule } from './schedule.js';
import { queueNameSchema } from './queues.js';
import type { RetentionPolicy } from './retention.js';

/**
 * The pipeline definition API: what a user writes. A pipeline declares its sources (files that
 * land and become bronze tables) and its silver and gold tables, each a SQL transformation over
 * upstream tables; the task graph follows from the tables each SQL references.
 */

export type Layer = 'bronze' | 'silver' | 'gold';

/** The engines that run silver and gold tables' SQL. */
export type EngineKind = 'duckdb' | 'spark';

/** What a table's SQL can use. */
export interface SqlContext {
  /**
   * The engine the SQL will run on, for a table whose SQL must differ between them (DuckDB and Spark SQL disagree
   * on casts, list and JSON functions, regular expressions…): `engine === 'spark' ? … : …`.
   */
  readonly engine: EngineKind;
  /** A reference to another table's current version, e.g. `ref('bronze', 'marches_publics')`. */
  ref(layer: Layer, table: string): string;
  /** The run's logical date as a SQL DATE literal. */
  readonly logicalDate: string;
  /** The run's id as a SQL string literal. */
  readonly runId: string;
  /** Start and end of the run's data interval as timestamp literals (for incremental work): DuckDB TIMESTAMPTZ, Spark TIMESTAMP. */
  readonly dataIntervalStart: string;
  readonly dataIntervalEnd: string;
  /** A declared run parameter as a SQL literal (NULL when it has no value). */
  param(name: string): string;
}

/** DuckDB `json_transform` structure: 'VARCHAR', { key: structure }, or [structure] for a list. */
export type JsonShape = string | { [key: string]: JsonShape } | [JsonShape];

export interface CsvFormat {
  type: 'csv';
  delimiter: string;
  /** Columns the file must have (matched ignoring case and extra spaces). */
  requiredColumns: string[];
  /** Bronze column names for source headers that are not valid Delta column names as written. */
  rename?: Record<string, string>;
}

export interface JsonFormat {
  type: 'json';
  /** Key of the top-level object that holds the records; null when the file is a JSON array. */
  recordsPath: string | null;
  /** The fields kept as bronze columns, with their shapes; every record is also kept whole as `_record`. */
  fields: Record<string, JsonShape>;
}

export interface SourceDefinition {
  name: string;
  /** File name pattern with `*` and `?` wildcards, e.g. `aws-marchespublics-annee-*.json`. */
  pattern: string;
  format: CsvFormat | JsonFormat;
  /** The bronze table the source's records are appended to. */
  bronzeTable: string;
  description?: string;
}

/**
 * Rules that turn input records into a refined table, with every record accounted for. Their SQL (dedupe key and
 * order, quarantine conditions, shape) runs on the table's engine, like the table's `sql`.
 */
export interface Refinement {
  /** The upstream table every row of which must be accounted for. */
  input: { layer: Layer; table: string };
  /** A column of the `sql` result that identifies its input record (one row per input record). */
  recordId: string;
  /** Among records sharing `key`, keep the first by `orderBy`; the others are counted as deduplicated. */
  dedupe?: { key: string; orderBy: string };
  /** Records matching a rule go to the quarantine table with the rule's reason (first match wins). */
  quarantine?: { reason: string; when: string }[];
  /** Turns surviving records (the relation named by its argument) into output rows; default: all columns. */
  /**
   * The published rows from the surviving records (the view named `records`); `context.engine` tells which SQL
   * it is written in.
   */
  shape?: (records: string, context: SqlContext) => string;
}

export interface TableDefinition {
  name: string;
  layer: 'silver' | 'gold';
  description?: string;
  sql: (context: SqlContext) => string;
  /** Columns that identify a row: checked for duplicates by quality_check. */
  key?: string[];
  partitionBy?: string[];
  refine?: Refinement;
  /** Checks on each new version, audited before it is published (write–audit–publish). */
  expectations?: Expectation[];
  /**
   * What a new version whose columns differ from the current one's (added, removed, retyped) does: published
   * with a warning from quality_check (`warn`, the default), or not published (`fail`).
   */
  schemaDrift?: 'warn' | 'fail';
  /** Overrides of the pipeline's task defaults for this table's task. */
  policy?: TaskPolicy;
  /**
   * Refine only the input rows committed since the last run and merge the result into the table by its `key`
   * (a refined table with a key; its shape must make a record's rows from that record alone). A changed SQL, rules
   * or macros, a rewritten input or `--full-refresh` rebuilds it from all the input.
   */
  incremental?: boolean;
  /**
   * The engine that computes it whatever the run's default (its SQL must then be written for that engine): Spark
   * for the heavy tables, DuckDB for the small ones.
   */
  engine?: EngineKind;
}

/** When the pipeline runs by itself (absent: only when triggered). */
export interface ScheduleDefinition {
  /** A cron expression (`0 *\/6 * * *`) or a fixed period (`every: '6h'`). */
  cron?: string;
  every?: string;
  /** IANA time zone of the cron expression (default UTC). */
  timezone?: string;
  /** ISO 8601 instant: no interval starts before it. */
  startDate: string;
  /** Run every missed interval (default false: only the latest). */
  catchup?: boolean;
  /** Runs queued or running at once (default 1). */
  maxActiveRuns?: number;
}

/** How tasks are retried and bounded; pipeline-wide defaults, each overridable per table. */
export interface TaskPolicy {
  retries?: number;
  /** Delay before a retry, e.g. `5m`. */
  retryDelay?: string;
  exponentialBackoff?: boolean;
  maxRetryDelay?: string;
  /** A try running longer than this fails, e.g. `30m`. */
  timeout?: string;
  /** The queue whose workers run the task (default `default`): route heavy tables to bigger machines. */
  queue?: string;
}

/** A parameter a run can be given when triggered by hand; validated at the trigger. */
export interface ParamDefinition {
  type: 'string' | 'number' | 'integer' | 'boolean' | 'date';
  description?: string;
  /** The value a run gets when the trigger does not give one (and every scheduled run). */
  default?: string | number | boolean;
  /** A trigger must give a value (when there is no default). */
  required?: boolean;
  /** The only values accepted. */
  choices?: (string | number)[];
}

export type ParamValue = string | number | boolean;

/** What a custom task's code can use. */
export interface TaskContext {
  pipeline: string;
  runId: string;
  taskId: string;
  /** 1-based try number. */
  attempt: number;
  /** ISO instants. */
  logicalDate: string;
  dataInterval: { start: string; end: string };
  params: Readonly<Record<string, ParamValue>>;
  /** Aborted when the try times out or the process stops: stop early. */
  signal: AbortSignal;
  /** A line for the attempt's log (`medallion logs`). */
  log(message: string): void;
  /** The lake, for tasks that inspect or maintain it. */
  lake: LakeLayout;
  /** The retention the run recorded (the project file's, defaults filled in), for a task that applies it. */
  retention: RetentionPolicy;
}

/** What a custom task reports: a one-line description for the run summary, and optional figures. */
export interface TaskOutcome {
  detail?: string;
  rowsIn?: number;
  rowsOut?: number;
  rowsQuarantined?: number;
  bytesRead?: number;
  bytesWritten?: number;
  /** Anything the task wants kept with its attempt (JSON). */
  data?: unknown;
}

/** A task written as code rather than SQL, e.g. a check, a notification or a maintenance job. */
export interface CustomTaskDefinition {
  name: string;
  description?: string;
  /** Task ids it runs after: `ingest`, `bronze.<table>`, `silver.<table>`, `gold.<table>`, `quality_check` or another custom task's name. */
  dependsOn?: string[];
  run: (context: TaskContext) => Promise<TaskOutcome | void>;
  policy?: TaskPolicy;
}

export interface PipelineDefinition {
  name: string;
  description?: string;
  schedule?: ScheduleDefinition;
  /** Retries and timeouts of every task unless a table overrides them. */
  taskDefaults?: TaskPolicy;
  /** Expected finish: a run not done this long after its scheduled start has missed its SLA, e.g. `2h`. */
  sla?: string;
  /** Files the pipeline ingests (none for a pipeline made only of custom tasks). */
  sources: SourceDefinition[];
  /** Where the source files are when `--source` is not given: a directory or an s3:// URL. */
  defaultSource?: string;
  tables: TableDefinition[];
  /** Tasks written as code, placed in the graph by their `dependsOn`. */
  tasks?: CustomTaskDefinition[];
  /** Parameters a manual trigger may set; tables read them with `param(name)`. */
  params?: Record<string, ParamDefinition>;
  /**
   * SQL run at the start of each task's session, e.g. helpers the tables' SQL shares. A plain list is DuckDB's
   * (`CREATE MACRO …`); helpers for several engines are given per engine, each run only on its own (as dbt's adapter
   * dispatch): `{ duckdb: ['CREATE MACRO …'], spark: ['CREATE TEMPORARY FUNCTION …'] }`.
   */
  macros?: string[] | Partial<Record<EngineKind, string[]>>;
  /** SQL over the pipeline's tables returning one row of headline figures for the run summary. */
  headline?: (context: SqlContext) => string;
}

const identifier = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'use lower_snake_case: letters, digits and _');
const jsonShape: z.ZodType<JsonShape> = z.lazy(() =>
  z.union([z.string(), z.tuple([jsonShape]), z.record(z.string(), jsonShape)]),
);

const sourceSchema = z.object({
  name: identifier,
  pattern: z.string().min(1),
  bronzeTable: identifier,
  description: z.string().optional(),
  format: z.discriminatedUnion('type', [
    z.object({
      type: z.literal('csv'),
      delimiter: z.string().length(1, 'one character'),
      requiredColumns: z.array(z.string().min(1)),
      rename: z.record(z.string(), identifier).optional(),
    }),
    z.object({
      type: z.literal('json'),
      recordsPath: z.string().min(1).nullable(),
      fields: z.record(z.string(), jsonShape),
    }),
  ]),
});

const duration = z.string().regex(/^\d+\s*(s|m|h|d)$/, 'a duration such as 90s, 30m, 6h or 1d');

const taskPolicySchema = z.object({
  retries: z.number().int().min(0).optional(),
  retryDelay: duration.optional(),
  exponentialBackoff: z.boolean().optional(),
  maxRetryDelay: duration.optional(),
  timeout: duration.optional(),
  queue: queueNameSchema.optional(),
});

const scheduleSchema = z
  .object({
    cron: z.string().min(1).optional(),
    every: duration.optional(),
    timezone: z.string().min(1).optional(),
    startDate: z.iso.datetime({ offset: true }),
    catchup: z.boolean().optional(),
    maxActiveRuns: z.number().int().min(1).optional(),
  })
  .refine((schedule) => (schedule.cron === undefined) !== (schedule.every === undefined), {
    message: 'give either cron or every',
  });

const sqlFunction = z.custom<(context: SqlContext) => string>(
  (value) => typeof value === 'function',
  'a function',
);

const tableSchema = z.object({
  name: identifier,
  layer: z.enum(['silver', 'gold']),
  description: z.string().optional(),
  sql: sqlFunction,
  key: z.array(z.string().min(1)).optional(),
  partitionBy: z.array(identifier).optional(),
  refine: z
    .object({
      input: z.object({ layer: z.enum(['bronze', 'silver', 'gold']), table: identifier }),
      recordId: z.string().min(1),
      dedupe: z.object({ key: z.string().min(1), orderBy: z.string().min(1) }).optional(),
      quarantine: z.array(z.object({ reason: identifier, when: z.string().min(1) })).optional(),
      shape: z
        .custom<(records: string, context: SqlContext) => string>((value) => typeof value === 'function')
        .optional(),
    })
    .optional(),
  expectations: z.array(expectationSchema).optional(),
  schemaDrift: z.enum(['warn', 'fail']).optional(),
  policy: taskPolicySchema.optional(),
  engine: z.enum(['duckdb', 'spark']).optional(),
  incremental: z.boolean().optional(),
});

const paramSchema = z
  .object({
    type: z.enum(['string', 'number', 'integer', 'boolean', 'date']),
    description: z.string().optional(),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    required: z.boolean().optional(),
    choices: z
      .array(z.union([z.string(), z.number()]))
      .min(1)
      .optional(),
  })
  .strict();

const customTaskSchema = z.object({
  name: identifier,
  description: z.string().optional(),
  dependsOn: z.array(z.string().min(1)).optional(),
  run: z.custom<CustomTaskDefinition['run']>((value) => typeof value === 'function', 'a function'),
  policy: taskPolicySchema.optional(),
});

const pipelineSchema = z.object({
  name: identifier,
  description: z.string().optional(),
  sources: z.array(sourceSchema),
  defaultSource: z.string().min(1).optional(),
  schedule: scheduleSchema.optional(),
  taskDefaults: taskPolicySchema.optional(),
  sla: duration.optional(),
  tables: z.array(tableSchema),
  tasks: z.array(customTaskSchema).optional(),
  params: z.record(identifier, paramSchema).optional(),
  macros: z
    .union([
      z.array(z.string().min(1)),
      z
        .object({ duckdb: z.array(z.string().min(1)), spark: z.array(z.string().min(1)) })
        .partial()
        .strict(),
    ])
    .optional(),
  headline: sqlFunction.optional(),
});

/** The pipeline's macros for one engine (a plain list is DuckDB's). */
export function macrosFor(pipeline: Pick<PipelineDefinition, 'macros'>, engine: EngineKind): string[] {
  const macros = pipeline.macros ?? [];
  if (Array.isArray(macros)) return engine === 'duckdb' ? macros : [];
  return macros[engine] ?? [];
}

/** Checks a definition at the boundary and returns it typed; every problem names its field. */
export function definePipeline(definition: PipelineDefinition): PipelineDefinition {
  const parsed = pipelineSchema.safeParse(definition);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    throw new ConfigError(
      `pipeline definition is invalid at ${field || 'the top level'}: ${issue?.message}`,
      {
        context: { field },
        hint: 'see the example pipeline in src/pipelines/medallion_data_pipeline',
      },
    );
  }
  assertUniqueNames(definition);
  if (definition.sources.length + definition.tables.length + (definition.tasks?.length ?? 0) === 0) {
    throw new ConfigError('pipeline definition is invalid: it declares no source, table or task', {
      context: { field: 'sources' },
    });
  }
  for (const table of definition.tables) checkIncremental(table);
  for (const [name, param] of Object.entries(definition.params ?? {})) checkParamDefault(name, param);
  if (definition.schedule) {
    const { cron, every, timezone } = definition.schedule;
    validateSchedule(
      every !== undefined ? { every } : { cron: cron ?? '', ...(timezone ? { timezone } : {}) },
    );
  }
  return definition;
}

function assertUniqueNames(definition: PipelineDefinition): void {
  const seen = new Set<string>();
  const names = [
    ...definition.sources.map((source) => `bronze.${source.bronzeTable}`),
    ...definition.tables.map((table) => `${table.layer}.${table.name}`),
    ...(definition.tasks ?? []).map((task) => task.name),
    ...definition.tables.flatMap((table) =>
      (table.expectations ?? []).map(
        (expectation) => `expectation ${expectation.name} of ${table.layer}.${table.name}`,
      ),
    ),
  ];
  for (const name of names) {
    if (seen.has(name)) {
      throw new ConfigError(`${name} is declared twice`, { context: { field: name } });
    }
    seen.add(name);
  }
}

/** An increment decides alike only for a refined table with a key whose quarantine checks look at one row. */
function checkIncremental(table: TableDefinition): void {
  if (!table.incremental) return;
  const field = `tables.${table.name}.incremental`;
  const refuse = (problem: string, hint: string): never => {
    throw new ConfigError(`${table.layer}.${table.name} cannot be incremental: ${problem}`, {
      context: { field },
      hint,
    });
  };
  if (!table.refine)
    refuse('it has no refine rules', 'incremental applies to refined tables (refine: {...})');
  if (!table.key?.length)
    refuse(
      'it has no key',
      'give it the columns that identify a row (key: [...]): merges replace rows by key',
    );
  const windowed = table.expectations?.find((e) => e.type === 'unique' && e.action === 'quarantine');
  if (windowed) {
    refuse(
      `its expectation ${windowed.name} quarantines by comparing rows with each other`,
      "an increment sees only the new rows: make it action 'fail' or 'warn' (checked on the whole new version)",
    );
  }
}
