/**
 * The SQLite metadata store (the default): better-sqlite3 in WAL mode, one connection per process.
 *
 * Open one store per process and database file: better-sqlite3 is synchronous, so two connections to the
 * same file in one process would wait for each other's locks on the one thread that could release them.
 * Separate processes share the file safely (write transactions are BEGIN IMMEDIATE, waiting busy_timeout).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { ConfigError, describeError } from '../core/errors.js';
import { KyselyMetadataStore } from './kysely-store.js';
import type { Database } from './schema.js';

export interface SqliteStoreOptions {
  clock?: () => Date;
  /** How long a write waits for another process's write lock before failing. Default 10 s. */
  busyTimeoutMs?: number;
}

/** Opens (creating when missing, with its directory) the SQLite database at `file`, or `:memory:`. */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): KyselyMetadataStore {
  const inMemory = file === ':memory:' || file === '';
  let database: BetterSqlite3.Database;
  try {
    if (!inMemory) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
    const opened = new BetterSqlite3(inMemory ? ':memory:' : file, { timeout: busyTimeoutMs });
    database = opened;
    whileBusy(busyTimeoutMs, () => {
      if (!inMemory) opened.pragma('journal_mode = WAL');
      // WAL + NORMAL: a commit survives a process crash (SIGKILL); only an OS crash may lose the last commits.
      opened.pragma('synchronous = NORMAL');
      opened.pragma('foreign_keys = ON');
    });
  } catch (error) {
    throw new ConfigError(`cannot open the SQLite metadata database ${file}: ${describeError(error)}`, {
      context: { field: '--db' },
      hint: 'pass --db sqlite:PATH with a writable path',
      cause: error,
    });
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  return new KyselyMetadataStore({ db, dialect: 'sqlite', clock: options.clock });
}

/**
 * Switching a file that another process is creating or recovering to WAL can answer SQLITE_BUSY at once,
 * without calling the busy handler, so the opening pragmas are retried here until the busy timeout.
 */
function whileBusy(timeoutMs: number, attempt: () => void): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      attempt();
      return;
    } catch (error) {
      const busy = error instanceof BetterSqlite3.SqliteError && error.code.startsWith('SQLITE_BUSY');
      if (!busy || Date.now() >= deadline) throw error;
      Atomics.wait(pause, 0, 0, 20);
    }
  }
}
