/**
 * The metadata tables as Kysely sees them. The same columns on SQLite and PostgreSQL: timestamps are ISO-8601
 * UTC text, JSON is text, booleans are 0/1 integers, and every number fits a 32-bit integer (so `pg` returns
 * numbers, not strings).
 */
import type { Generated } from 'kysely';
import type { RunState, StopState, TaskState } from '../core/run-state.js';
import type { Role } from '../core/roles.js';
import type { AttemptState, ProcessKind, RunTrigger } from './records.js';

export interface MigrationsTable {
  version: number;
  name: string;
  applied_at: string;
}

export interface PipelinesTable {
  name: string;
  definition_hash: string;
  /** 0 or 1. */
  paused: number;
  created_at: string;
  updated_at: string;
}

export interface RunsTable {
  id: string;
  pipeline: string;
  logical_date: string;
  data_interval_start: string;
  data_interval_end: string;
  trigger: RunTrigger;
  /** JSON object. */
  params: string;
  state: RunState;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** JSON, or null. */
  summary: string | null;
  /** 0 or 1: run every task even when its inputs are unchanged (migration 2). */
  force: number;
  /** 0 or 1: rebuild incremental tables from all their input (migration 9). */
  full_refresh: number;
  /** Where the run reads and writes (migration 5); null before. */
  source_location: string | null;
  lake_location: string | null;
  definition_hash: string | null;
  /** JSON RunEngine: the engine its refined tables run on (migration 8); null: DuckDB. */
  engine: Generated<string | null>;
  /** JSON RetentionSettings: what its retention task applies (migration 10); null: the defaults. */
  retention: Generated<string | null>;
  /** The process that drives the run alone (migration 5). */
  owner: string | null;
  /** A request to stop the run (migration 5). */
  stop_state: StopState | null;
  stop_reason: string | null;
  stop_requested_at: string | null;
}

export interface TaskInstancesTable {
  run_id: string;
  task_id: string;
  state: TaskState;
  try_number: number;
  max_tries: number;
  next_try_at: string | null;
  fingerprint: string | null;
  updated_at: string;
  /** The queue whose workers may claim it (migration 7). */
  queue: Generated<string>;
  /** When it was last queued (migration 7). */
  queued_at: Generated<string | null>;
}

export interface AttemptsTable {
  run_id: string;
  task_id: string;
  attempt: number;
  state: AttemptState;
  worker: string;
  started_at: string;
  heartbeat_at: string;
  finished_at: string | null;
  reason: string | null;
  /** JSON AttemptMetrics, or null. */
  metrics: string | null;
  /** JSON: what the task reported (migration 2), or null. */
  output: string | null;
  /** When its task was queued for this try (migration 7); null before. */
  queued_at: Generated<string | null>;
}

export interface TaskLogsTable {
  run_id: string;
  task_id: string;
  attempt: number;
  /** 1-based, per attempt. */
  line_no: number;
  line: string;
}

/** One row per alert cause (migration 3). */
export interface AlertsTable {
  cause: string;
  kind: string;
  pipeline: string | null;
  severity: string;
  title: string;
  text: string;
  first_at: string;
  last_at: string;
  occurrences: number;
  /** `occurrences` when the cause was last sent. */
  sent_occurrences: number;
  last_sent_at: string | null;
  last_run_id: string | null;
  last_error: string | null;
  last_error_at: string | null;
}

/** The facts counted per cause, so that a report of the same one again is not counted twice (migration 3). */
export interface AlertOccurrencesTable {
  cause: string;
  occurrence: string;
  at: string;
}

/** Named connections to object stores (migration 4): config without secrets, the secret sealed. */
export interface ConnectionsTable {
  name: string;
  kind: string;
  /** JSON, no secrets. */
  config: string;
  /** The encrypted secret as the caller sealed it (the store never sees it in clear). */
  secret: string | null;
  created_at: string;
  updated_at: string;
}

/** One lease per pipeline and lake: the run allowed to write it (migration 5). */
export interface LeasesTable {
  key: string;
  run_id: string;
  holder: string;
  acquired_at: string;
  expires_at: string;
}

/** Schedulers and other processes that execute work, with their heartbeats (migration 5). */
export interface ProcessesTable {
  id: string;
  kind: ProcessKind;
  host: string;
  pid: number;
  started_at: string;
  heartbeat_at: string;
  stopped_at: string | null;
  /** JSON: [{ name, definitionHash }]. */
  pipelines: string;
  /** JSON: the queues it claims from, or null when it executes nothing (migration 7). */
  queues: string | null;
  /** Tries it runs at once (migration 7). */
  slots: number | null;
}

/** People who sign in (migration 6); the password only as its argon2id hash. */
export interface UsersTable {
  id: string;
  name: string;
  role: Role;
  password_hash: string;
  /** 0 or 1. */
  disabled: number;
  created_at: string;
  updated_at: string;
}

/** Server-side sessions (migration 6), known by the SHA-256 of their cookie's value. */
export interface SessionsTable {
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  address: string | null;
  user_agent: string | null;
}

/** Personal API tokens (migration 6): the secret only as its SHA-256. */
export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  secret_hash: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
}

/** Failed logins per key (user, or address) for rate limiting (migration 6). */
export interface LoginFailuresTable {
  key: string;
  at: string;
}

export interface Database {
  medallion_migrations: MigrationsTable;
  medallion_pipelines: PipelinesTable;
  medallion_runs: RunsTable;
  medallion_task_instances: TaskInstancesTable;
  medallion_attempts: AttemptsTable;
  medallion_task_logs: TaskLogsTable;
  medallion_alerts: AlertsTable;
  medallion_alert_occurrences: AlertOccurrencesTable;
  medallion_connections: ConnectionsTable;
  medallion_leases: LeasesTable;
  medallion_processes: ProcessesTable;
  medallion_users: UsersTable;
  medallion_sessions: SessionsTable;
  medallion_api_tokens: ApiTokensTable;
  medallion_login_failures: LoginFailuresTable;
}
