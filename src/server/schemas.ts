/**
 * The shapes the API speaks, as zod schemas: requests are validated against them at the boundary, and together they
 * make the OpenAPI document at /api/openapi.json.
 */
import { z } from '@hono/zod-openapi';

export const ErrorSchema = z
  .object({
    error: z.string().openapi({ example: 'no run run_20240101T000000_abc123' }),
    field: z.string().optional(),
    hint: z.string().optional(),
  })
  .openapi('Error');

const isoTime = z.string().openapi({ example: '2026-11-29T17:35:20.000Z' });

/** A time a request gives: a date (YYYY-MM-DD, midnight UTC) or an ISO 8601 instant with its offset. */
export const InstantSchema = z.iso.datetime({ offset: true }).or(z.iso.date());

/** An InstantSchema value as the time it stands for. */
export function toInstant(value: string): Date {
  return new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
}
const nullableTime = isoTime.nullable();

/** Where a run reads, writes and computes (its engine), and its retention, as it recorded them. */
const RunLocationsSchema = z.object({
  source: z.string().nullable(),
  lake: z.string(),
  engine: z
    .object({
      kind: z.enum(['duckdb', 'spark']),
      spark: z.object({ remote: z.string(), uiUrl: z.string().optional() }).optional(),
    })
    .optional(),
  /** The retention its retention task applies, as the project file declared it (durations such as `30d`). */
  retention: z
    .object({
      landing: z.string().optional(),
      versions: z.string().optional(),
      quarantine: z.string().optional(),
      leftovers: z.string().optional(),
      forceShortRetention: z.boolean().optional(),
    })
    .optional(),
});

export const RunStateSchema = z.enum(['queued', 'running', 'success', 'failed', 'cancelled']);
export const TaskStateSchema = z.enum([
  'scheduled',
  'queued',
  'running',
  'success',
  'failed',
  'up_for_retry',
  'skipped',
  'upstream_failed',
  'cancelled',
]);

export const RunSchema = z
  .object({
    id: z.string().openapi({ example: 'run_20261129T173520_b68be8' }),
    pipeline: z.string(),
    logicalDate: isoTime,
    dataIntervalStart: isoTime,
    dataIntervalEnd: isoTime,
    trigger: z.enum(['schedule', 'manual', 'backfill']),
    params: z.record(z.string(), z.unknown()),
    state: RunStateSchema,
    force: z.boolean(),
    fullRefresh: z.boolean(),
    createdAt: isoTime,
    startedAt: nullableTime,
    finishedAt: nullableTime,
    summary: z.unknown(),
    locations: RunLocationsSchema.nullable(),
    definitionHash: z.string().nullable(),
    owner: z.string().nullable(),
    stop: z
      .object({ state: z.enum(['failed', 'cancelled']), reason: z.string(), requestedAt: isoTime })
      .nullable(),
  })
  .openapi('Run');

export const AttemptSchema = z
  .object({
    runId: z.string(),
    taskId: z.string(),
    attempt: z.number().int(),
    state: z.enum(['running', 'success', 'failed']),
    worker: z.string(),
    startedAt: isoTime,
    heartbeatAt: isoTime,
    finishedAt: nullableTime,
    queuedAt: nullableTime.openapi({ description: 'when its task was queued for this try' }),
    reason: z.string().nullable(),
    metrics: z
      .object({
        durationMs: z.number(),
        rowsIn: z.number().optional(),
        rowsOut: z.number().optional(),
        rowsQuarantined: z.number().optional(),
        bytesRead: z.number().optional(),
        bytesWritten: z.number().optional(),
        cpuMs: z.number().optional(),
        peakRssBytes: z.number().optional(),
      })
      .nullable(),
    output: z.unknown(),
  })
  .openapi('Attempt');

export const TaskSchema = z
  .object({
    runId: z.string(),
    taskId: z.string(),
    state: TaskStateSchema,
    tryNumber: z.number().int(),
    maxTries: z.number().int(),
    nextTryAt: nullableTime,
    fingerprint: z.string().nullable(),
    updatedAt: isoTime,
    queue: z.string().openapi({ description: 'the queue whose workers may run it' }),
    waitingForQueue: z
      .string()
      .nullable()
      .openapi({ description: 'queued in a queue no live worker serves: it waits for one to start' }),
    attempts: z.array(AttemptSchema),
    latestAttempt: AttemptSchema.nullable(),
    reason: z.string(),
    dependsOn: z.array(z.string()).openapi({ description: 'the tasks it waits for' }),
  })
  .openapi('Task');

export const RunDetailSchema = z.object({ run: RunSchema, tasks: z.array(TaskSchema) }).openapi('RunDetail');

const RunBriefSchema = RunSchema.pick({
  id: true,
  state: true,
  trigger: true,
  logicalDate: true,
  startedAt: true,
  finishedAt: true,
}).openapi('RunBrief');

export const PipelineOverviewSchema = z
  .object({
    name: z.string(),
    description: z.string().nullable(),
    schedule: z.string().nullable().openapi({ example: 'On the hour, every 6 hours (UTC)' }),
    nextRunAt: nullableTime,
    paused: z.boolean(),
    lake: z.string().nullable(),
    lastRun: RunBriefSchema.nullable(),
    recentRuns: z.array(RunBriefSchema),
    recent: z.object({ runs: z.number().int(), succeeded: z.number().int(), failed: z.number().int() }),
  })
  .openapi('PipelineOverview');

const ParamSchema = z.object({
  type: z.enum(['string', 'number', 'integer', 'boolean', 'date']),
  description: z.string().optional(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  required: z.boolean().optional(),
  choices: z.array(z.union([z.string(), z.number()])).optional(),
});

export const PipelineDetailSchema = PipelineOverviewSchema.extend({
  params: z.record(z.string(), ParamSchema),
  locations: RunLocationsSchema.nullable(),
  tasks: z.array(
    z.object({
      id: z.string(),
      kind: z.string(),
      dependsOn: z.array(z.string()),
      table: z.string().nullable(),
    }),
  ),
  lineage: z.object({
    nodes: z.array(
      z.object({
        id: z.string(),
        kind: z.enum(['source', 'table']),
        layer: z.enum(['source', 'bronze', 'silver', 'gold']),
        name: z.string(),
        task: z.string().nullable(),
      }),
    ),
    edges: z.array(z.object({ from: z.string(), to: z.string() })),
  }),
}).openapi('PipelineDetail');

export const GridSchema = z
  .object({
    tasks: z.array(z.string()),
    runs: z.array(
      RunBriefSchema.extend({
        /** Each task's state in the run (tasks the run does not have are absent). */
        cells: z.record(z.string(), TaskStateSchema),
      }),
    ),
  })
  .openapi('Grid');

export const ParamValuesSchema = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
  .openapi({ example: { region: 'eu' } });

export const LogPageSchema = z
  .object({
    attempt: AttemptSchema,
    lines: z.array(z.string()),
    /** Pass back as `after` to read what was appended since. */
    nextLine: z.number().int(),
  })
  .openapi('LogPage');

export const QualitySchema = z
  .object({
    run: RunSchema,
    expectations: z.array(
      z
        .object({
          task: z.string(),
          attempt: z.number().int(),
          name: z.string(),
          type: z.string(),
          action: z.enum(['warn', 'quarantine', 'fail']),
          passed: z.boolean(),
          failingRows: z.number(),
        })
        .passthrough(),
    ),
  })
  .openapi('Quality');

export const ConnectionSchema = z
  .object({
    name: z.string(),
    kind: z.string(),
    endpoint: z.string().nullable(),
    region: z.string().nullable(),
    forcePathStyle: z.boolean().nullable(),
    accessKeyId: z.string().nullable().openapi({ description: 'masked: its last 4 characters' }),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .openapi('Connection');

export const RoleSchema = z.enum(['viewer', 'operator', 'admin']);

export const UserSchema = z
  .object({
    name: z.string(),
    role: RoleSchema,
    disabled: z.boolean(),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .openapi('User');

export const TokenSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    userName: z.string(),
    name: z.string(),
    createdAt: isoTime,
    lastUsedAt: nullableTime,
    expiresAt: nullableTime,
    revokedAt: nullableTime,
  })
  .openapi('Token');

export const NameParam = z.object({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/, 'a name: letters, digits and . _ @ -')
    .openapi({ param: { name: 'name', in: 'path' } }),
});

/** A figure per run, aligned with the answer's `runs` (null: nothing measured in that run). */
export const PerRunSchema = z.array(z.number().nullable());

export const PipelineParam = z.object({
  name: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'a pipeline name (lower_snake_case)')
    .openapi({ param: { name: 'name', in: 'path' }, example: 'medallion_data_pipeline' }),
});

export const RunIdParam = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,120}$/, 'a run id')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'run_20261129T173520_b68be8' }),
});
