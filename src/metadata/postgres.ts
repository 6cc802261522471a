/**
 * The PostgreSQL metadata store: a `pg` connection pool under Kysely. Several scheduler processes may share one
 * database; the store's transactions (row locks with SKIP LOCKED, unique indexes, advisory locks) keep them
 * from creating or claiming the same thing twice.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { ConfigError } from '../core/errors.js';
import { KyselyMetadataStore } from './kysely-store.js';
import type { Database } from './schema.js';
import { PgWakeListener, wakeChannel, type PgListenerOptions } from './wakeups.js';

export interface PostgresStoreOptions {
  clock?: () => Date;
  /** The schema for the tables (default: the server's search_path, normally `public`); created when missing. */
  schema?: string;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /** How the wake-up connection reconnects (tests shorten it). */
  listener?: Pick<PgListenerOptions, 'backoffMs' | 'maxBackoffMs'>;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function openPostgresStore(
  connectionString: string,
  options: PostgresStoreOptions = {},
): KyselyMetadataStore {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new ConfigError(`invalid PostgreSQL schema name ${JSON.stringify(schema)}`, {
      context: { field: '--db' },
      hint: 'use letters, digits and underscores, starting with a letter or underscore',
    });
  }
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    ...(schema !== undefined && { options: `-c search_path=${schema}` }),
  });
  // An idle connection the server drops emits 'error' on the pool; without a listener that would crash the
  // process. The next query checks out a fresh connection and reports any real problem itself.
  pool.on('error', () => undefined);
  // The same for a connection checked out between two statements (inside a transaction) when the server goes
  // away (a restart, a failover): its next statement fails with the error, which the caller handles.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyMetadataStore({
    db,
    dialect: 'postgres',
    clock: options.clock,
    schema,
    listen: (onWake) =>
      new PgWakeListener({ connectionString, channel: wakeChannel(schema), ...options.listener }, onWake),
  });
}
