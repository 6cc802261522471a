/**
 * What every query module of the Kysely store shares: the database, its dialect, the clock, write transactions
 * and the conversions between rows and records.
 */
import { sql, type Kysely } from 'kysely';
import { MedallionError } from '../../core/errors.js';
import type { Database } from '../schema.js';

export type Dialect = 'sqlite' | 'postgres';

/** Rows a multi-row INSERT carries at most (SQLite allows 32,766 parameters, PostgreSQL 65,535). */
export const INSERT_CHUNK = 500;
/** Task ids one batch transition statement names at most. */
export const TRANSITION_CHUNK = 1_000;

/** Namespaces for PostgreSQL advisory locks (the first key of the two-key form). */
export const LOCK_MIGRATE = 0x6d64_0001;
export const LOCK_LOG = 0x6d64_0002;

export class StoreCore {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    private readonly clock: () => Date,
  ) {}

  now(): string {
    return this.clock().toISOString();
  }

  /**
   * Runs `work` in a write transaction on one connection. SQLite: BEGIN IMMEDIATE takes the database's write
   * lock up front (waiting up to busy_timeout), so transactions in other processes serialise instead of
   * failing on a read-to-write upgrade. PostgreSQL: a plain transaction; callers take row or advisory locks.
   */
  async write<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.db.connection().execute(async (connection) => {
      await sql.raw(this.dialect === 'sqlite' ? 'begin immediate' : 'begin').execute(connection);
      let result: T;
      try {
        result = await work(connection);
      } catch (error) {
        try {
          await sql.raw('rollback').execute(connection);
        } catch {
          // The connection is gone; the original error says why.
        }
        throw error;
      }
      await sql.raw('commit').execute(connection);
      return result;
    });
  }

  /**
   * Runs `work` in one read-only transaction that sees a single consistent state of the database, whatever
   * other processes commit meanwhile: REPEATABLE READ on PostgreSQL; on SQLite (WAL) a deferred transaction,
   * whose snapshot is taken by its first read.
   */
  async readConsistently<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.db.connection().execute(async (connection) => {
      await sql
        .raw(this.dialect === 'sqlite' ? 'begin' : 'begin isolation level repeatable read read only')
        .execute(connection);
      try {
        return await work(connection);
      } finally {
        // Nothing was written: ending it either way releases the snapshot.
        await sql
          .raw('rollback')
          .execute(connection)
          .catch(() => undefined);
      }
    });
  }
}

export function parseJsonObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function toJson(value: unknown): string | null {
  return value === null ? null : (JSON.stringify(value) ?? null);
}

/** The timestamp in canonical ISO form (so that text order is time order), or an error naming the field. */
export function iso(value: string, field: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new MedallionError(`${field} is not a timestamp: ${JSON.stringify(value)}`);
  }
  return date.toISOString();
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}
