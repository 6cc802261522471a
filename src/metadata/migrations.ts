/**
 * Versioned migrations of the metadata tables, written once with Kysely's schema builder for both SQLite and
 * PostgreSQL. Append new migrations with the next version; never edit one that has shipped.
 */
import { DEFAULT_QUEUE } from '../core/queues.js';
import { sql, type Kysely } from 'kysely';
import { MedallionError } from '../core/errors.js';
import type { Database } from './schema.js';

export interface Migration {
  version: number;
  name: string;
  up(db: Kysely<Database>): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'pipelines, runs, task instances, attempts, logs',
    async up(db) {
      await db.schema
        .createTable('medallion_pipelines')
        .addColumn('name', 'text', (column) => column.primaryKey())
        .addColumn('definition_hash', 'text', (column) => column.notNull())
        .addColumn('paused', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (column) => column.notNull())
        .addColumn('updated_at', 'text', (column) => column.notNull())
        .execute();

      await db.schema
        .createTable('medallion_runs')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('pipeline', 'text', (column) => column.notNull())
        .addColumn('logical_date', 'text', (column) => column.notNull())
        .addColumn('data_interval_start', 'text', (column) => column.notNull())
        .addColumn('data_interval_end', 'text', (column) => column.notNull())
        .addColumn('trigger', 'text', (column) => column.notNull())
        .addColumn('params', 'text', (column) => column.notNull())
        .addColumn('state', 'text', (column) => column.notNull())
        .addColumn('created_at', 'text', (column) => column.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('summary', 'text')
        .execute();
      // Exactly-once scheduling: one scheduled or backfilled run per pipeline and logical date.
      await db.schema
        .createIndex('medallion_runs_one_per_logical_date')
        .unique()
        .on('medallion_runs')
        .columns(['pipeline', 'logical_date'])
        .where(sql<boolean>`${sql.ref('trigger')} <> 'manual'`)
        .execute();
      await db.schema
        .createIndex('medallion_runs_by_pipeline')
        .on('medallion_runs')
        .columns(['pipeline', 'logical_date'])
        .execute();
      await db.schema.createIndex('medallion_runs_by_state').on('medallion_runs').column('state').execute();

      await db.schema
        .createTable('medallion_task_instances')
        .addColumn('run_id', 'text', (column) =>
          column.notNull().references('medallion_runs.id').onDelete('cascade'),
        )
        .addColumn('task_id', 'text', (column) => column.notNull())
        .addColumn('state', 'text', (column) => column.notNull())
        .addColumn('try_number', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('max_tries', 'integer', (column) => column.notNull())
        .addColumn('next_try_at', 'text')
        .addColumn('fingerprint', 'text')
        .addColumn('updated_at', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('medallion_task_instances_pk', ['run_id', 'task_id'])
        .execute();
      await db.schema
        .createIndex('medallion_task_instances_by_state')
        .on('medallion_task_instances')
        .columns(['state', 'updated_at'])
        .execute();
      await db.schema
        .createIndex('medallion_task_instances_by_task')
        .on('medallion_task_instances')
        .columns(['task_id', 'state'])
        .execute();

      await db.schema
        .createTable('medallion_attempts')
        .addColumn('run_id', 'text', (column) => column.notNull())
        .addColumn('task_id', 'text', (column) => column.notNull())
        .addColumn('attempt', 'integer', (column) => column.notNull())
        .addColumn('state', 'text', (column) => column.notNull())
        .addColumn('worker', 'text', (column) => column.notNull())
        .addColumn('started_at', 'text', (column) => column.notNull())
        .addColumn('heartbeat_at', 'text', (column) => column.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('reason', 'text')
        .addColumn('metrics', 'text')
        .addPrimaryKeyConstraint('medallion_attempts_pk', ['run_id', 'task_id', 'attempt'])
        .addForeignKeyConstraint(
          'medallion_attempts_task_fk',
          ['run_id', 'task_id'],
          'medallion_task_instances',
          ['run_id', 'task_id'],
          (constraint) => constraint.onDelete('cascade'),
        )
        .execute();
      await db.schema
        .createIndex('medallion_attempts_by_state')
        .on('medallion_attempts')
        .columns(['state', 'heartbeat_at'])
        .execute();

      await db.schema
        .createTable('medallion_task_logs')
        .addColumn('run_id', 'text', (column) =>
          column.notNull().references('medallion_runs.id').onDelete('cascade'),
        )
        .addColumn('task_id', 'text', (column) => column.notNull())
        .addColumn('attempt', 'integer', (column) => column.notNull())
        .addColumn('line_no', 'integer', (column) => column.notNull())
        .addColumn('line', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('medallion_task_logs_pk', ['run_id', 'task_id', 'attempt', 'line_no'])
        .execute();
    },
  },
  {
    version: 2,
    name: 'forced runs, attempt outputs',
    async up(db) {
      await db.schema
        .alterTable('medallion_runs')
        .addColumn('force', 'integer', (column) => column.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('medallion_attempts').addColumn('output', 'text').execute();
    },
  },
  {
    version: 3,
    name: 'alerts',
    async up(db) {
      // One row per cause: its latest report, how often it happened and when it was last sent.
      await db.schema
        .createTable('medallion_alerts')
        .addColumn('cause', 'text', (column) => column.primaryKey())
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('pipeline', 'text')
        .addColumn('severity', 'text', (column) => column.notNull())
        .addColumn('title', 'text', (column) => column.notNull())
        .addColumn('text', 'text', (column) => column.notNull())
        .addColumn('first_at', 'text', (column) => column.notNull())
        .addColumn('last_at', 'text', (column) => column.notNull())
        .addColumn('occurrences', 'integer', (column) => column.notNull())
        .addColumn('sent_occurrences', 'integer', (column) => column.notNull())
        .addColumn('last_sent_at', 'text')
        .addColumn('last_run_id', 'text')
        .addColumn('last_error', 'text')
        .addColumn('last_error_at', 'text')
        .execute();
      await db.schema
        .createIndex('medallion_alerts_by_last_at')
        .on('medallion_alerts')
        .column('last_at')
        .execute();
      // The facts already counted per cause (e.g. the run a failure was about): a second report is no new one.
      await db.schema
        .createTable('medallion_alert_occurrences')
        .addColumn('cause', 'text', (column) =>
          column.notNull().references('medallion_alerts.cause').onDelete('cascade'),
        )
        .addColumn('occurrence', 'text', (column) => column.notNull())
        .addColumn('at', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('medallion_alert_occurrences_pk', ['cause', 'occurrence'])
        .execute();
    },
  },
  {
    version: 4,
    name: 'connections',
    async up(db) {
      await db.schema
        .createTable('medallion_connections')
        .addColumn('name', 'text', (column) => column.primaryKey())
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('config', 'text', (column) => column.notNull())
        .addColumn('secret', 'text')
        .addColumn('created_at', 'text', (column) => column.notNull())
        .addColumn('updated_at', 'text', (column) => column.notNull())
        .execute();
    },
  },
  {
    version: 5,
    name: 'run locations, owners and stops; leases; processes',
    async up(db) {
      for (const column of [
        'source_location',
        'lake_location',
        'definition_hash',
        'owner',
        'stop_state',
        'stop_reason',
        'stop_requested_at',
      ]) {
        await db.schema.alterTable('medallion_runs').addColumn(column, 'text').execute();
      }
      await db.schema
        .createTable('medallion_leases')
        .addColumn('key', 'text', (column) => column.primaryKey())
        .addColumn('run_id', 'text', (column) => column.notNull())
        .addColumn('holder', 'text', (column) => column.notNull())
        .addColumn('acquired_at', 'text', (column) => column.notNull())
        .addColumn('expires_at', 'text', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('medallion_processes')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('host', 'text', (column) => column.notNull())
        .addColumn('pid', 'integer', (column) => column.notNull())
        .addColumn('started_at', 'text', (column) => column.notNull())
        .addColumn('heartbeat_at', 'text', (column) => column.notNull())
        .addColumn('stopped_at', 'text')
        .addColumn('pipelines', 'text', (column) => column.notNull())
        .execute();
      await db.schema
        .createIndex('medallion_processes_by_heartbeat')
        .on('medallion_processes')
        .column('heartbeat_at')
        .execute();
    },
  },
  {
    version: 6,
    name: 'users, sessions, API tokens, login failures',
    async up(db) {
      await db.schema
        .createTable('medallion_users')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('name', 'text', (column) => column.notNull().unique())
        .addColumn('role', 'text', (column) => column.notNull())
        .addColumn('password_hash', 'text', (column) => column.notNull())
        .addColumn('disabled', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (column) => column.notNull())
        .addColumn('updated_at', 'text', (column) => column.notNull())
        .execute();
      // A session is known by the hash of its cookie's value: the database never holds a usable cookie.
      await db.schema
        .createTable('medallion_sessions')
        .addColumn('id_hash', 'text', (column) => column.primaryKey())
        .addColumn('user_id', 'text', (column) =>
          column.notNull().references('medallion_users.id').onDelete('cascade'),
        )
        .addColumn('csrf_token', 'text', (column) => column.notNull())
        .addColumn('created_at', 'text', (column) => column.notNull())
        .addColumn('last_seen_at', 'text', (column) => column.notNull())
        .addColumn('expires_at', 'text', (column) => column.notNull())
        .addColumn('address', 'text')
        .addColumn('user_agent', 'text')
        .execute();
      await db.schema
        .createIndex('medallion_sessions_by_user')
        .on('medallion_sessions')
        .column('user_id')
        .execute();
      await db.schema
        .createTable('medallion_api_tokens')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('user_id', 'text', (column) =>
          column.notNull().references('medallion_users.id').onDelete('cascade'),
        )
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('secret_hash', 'text', (column) => column.notNull())
        .addColumn('created_at', 'text', (column) => column.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema
        .createTable('medallion_login_failures')
        .addColumn('key', 'text', (column) => column.notNull())
        .addColumn('at', 'text', (column) => column.notNull())
        .execute();
      await db.schema
        .createIndex('medallion_login_failures_by_key')
        .on('medallion_login_failures')
        .columns(['key', 'at'])
        .execute();
    },
  },
  {
    version: 7,
    name: 'task queues and when tasks were queued; what each process executes',
    async up(db) {
      await db.schema
        .alterTable('medallion_task_instances')
        .addColumn('queue', 'text', (column) => column.notNull().defaultTo(DEFAULT_QUEUE))
        .execute();
      await db.schema.alterTable('medallion_task_instances').addColumn('queued_at', 'text').execute();
      await db.schema.alterTable('medallion_attempts').addColumn('queued_at', 'text').execute();
      await db.schema.alterTable('medallion_processes').addColumn('queues', 'text').execute();
      await db.schema.alterTable('medallion_processes').addColumn('slots', 'integer').execute();
    },
  },
  {
    version: 8,
    name: "the engine each run's refined tables run on",
    async up(db) {
      await db.schema.alterTable('medallion_runs').addColumn('engine', 'text').execute();
    },
  },
  {
    version: 9,
    name: 'runs that rebuild incremental tables from all their input',
    async up(db) {
      await db.schema
        .alterTable('medallion_runs')
        .addColumn('full_refresh', 'integer', (column) => column.notNull().defaultTo(0))
        .execute();
    },
  },
  {
    version: 10,
    name: "the retention each run's retention task applies",
    async up(db) {
      await db.schema.alterTable('medallion_runs').addColumn('retention', 'text').execute();
    },
  },
];

/**
 * Applies the migrations not yet recorded in `medallion_migrations`. The caller holds the migration lock and
 * the transaction: DDL is transactional on both databases, so a failed migration leaves nothing behind.
 */
export async function applyMigrations(
  db: Kysely<Database>,
  appliedAt: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  await db.schema
    .createTable('medallion_migrations')
    .ifNotExists()
    .addColumn('version', 'integer', (column) => column.primaryKey())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('applied_at', 'text', (column) => column.notNull())
    .execute();
  const applied = new Set(
    (await db.selectFrom('medallion_migrations').select('version').execute()).map((row) => row.version),
  );
  const known = Math.max(0, ...migrations.map((migration) => migration.version));
  const newest = Math.max(0, ...applied);
  if (newest > known) {
    throw new MedallionError(
      `the metadata database is at migration ${newest}, newer than this medallion knows (${known})`,
      { hint: 'upgrade medallion, or point --db at another database' },
    );
  }
  const done: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(migration.version)) continue;
    await migration.up(db);
    await db
      .insertInto('medallion_migrations')
      .values({ version: migration.version, name: migration.name, applied_at: appliedAt })
      .execute();
    done.push(migration.version);
  }
  return done;
}
