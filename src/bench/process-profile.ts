/**
 * Loaded into each process of a benchmark fleet with `node --import` (see worker-fleet.ts): tallies every
 * metadata store call (the KyselyMetadataStore's methods) and every SQL statement sent to PostgreSQL (pg's
 * Client.query), as the scheduling benchmark's timed store does in-process. On SIGUSR2 the process writes what it
 * tallied since the last SIGUSR2 to the file MEDALLION_BENCH_PROFILE names (replaced whole, with a sequence
 * number), and starts again from zero.
 */
import { renameSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { KyselyMetadataStore } from '../metadata/kysely-store.js';
import { OperationTally } from './timed-store.js';
import type { OperationTiming } from './measure.js';

/** What one process wrote: store calls and SQL statements since the previous dump. */
export interface ProcessProfile {
  seq: number;
  calls: OperationTiming[];
  statements: OperationTiming[];
}

/** A statement's kind: `notify`, `listen`, `begin`, `commit`, or its verb and first table. */
export function statementKind(text: string): string {
  const sql = text.trim().toLowerCase();
  if (sql.includes('pg_notify')) return 'notify';
  if (sql.includes('pg_advisory')) return 'advisory lock';
  const verb = /^\w+/.exec(sql)?.[0] ?? '?';
  if (verb !== 'select' && verb !== 'insert' && verb !== 'update' && verb !== 'delete') return verb;
  const table = /\b(?:from|into|update)\s+"?(\w+)"?/.exec(sql)?.[1];
  return table ? `${verb} ${table.replace(/^medallion_/, '')}` : verb;
}

function install(file: string): void {
  const calls = new OperationTally();
  const statements = new OperationTally();
  let seq = 0;

  const prototype = KyselyMetadataStore.prototype as unknown as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(prototype)) {
    // Methods only: not the constructor, nor getters (reading one on the prototype would run it).
    const method: unknown = Object.getOwnPropertyDescriptor(prototype, name)?.value;
    if (name === 'constructor' || typeof method !== 'function') continue;
    prototype[name] = function timed(this: unknown, ...args: unknown[]): unknown {
      const started = performance.now();
      const result: unknown = Reflect.apply(method, this, args);
      if (result instanceof Promise)
        return result.finally(() => calls.record(name, started, performance.now()));
      return result;
    };
  }

  const client = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = client.query;
  client.query = function timedQuery(this: unknown, ...args: unknown[]): unknown {
    const first = args[0];
    const text = typeof first === 'string' ? first : (first as { text?: unknown } | undefined)?.text;
    const started = performance.now();
    const result: unknown = Reflect.apply(query, this, args);
    if (typeof text === 'string' && result instanceof Promise) {
      const kind = statementKind(text);
      return result.finally(() => statements.record(kind, started, performance.now()));
    }
    return result;
  };

  process.on('SIGUSR2', () => {
    seq += 1;
    const profile: ProcessProfile = { seq, calls: calls.operations(), statements: statements.operations() };
    calls.reset();
    statements.reset();
    writeFileSync(`${file}.tmp`, JSON.stringify(profile));
    renameSync(`${file}.tmp`, file);
  });
}

const file = process.env.MEDALLION_BENCH_PROFILE;
if (file) install(file);
