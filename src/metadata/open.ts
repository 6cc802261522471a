/**
 * `--db` → a metadata store: `sqlite:PATH`, a plain file path or `:memory:` for SQLite (the default), and
 * `postgres://…` / `postgresql://…` for PostgreSQL (optionally `?schema=NAME` to keep the tables in a schema).
 */
import { ConfigError, describeError, MedallionError } from '../core/errors.js';
import type { MetadataStore } from './metadata-store.js';

export type MetadataLocation =
  { kind: 'sqlite'; path: string } | { kind: 'postgres'; connectionString: string; schema?: string };

export interface OpenMetadataStoreOptions {
  clock?: () => Date;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** SQLite: how long a write waits for another process's lock. */
  busyTimeoutMs?: number;
  /** PostgreSQL: connections in the pool. */
  poolSize?: number;
}

const HINT = 'use --db sqlite:PATH (or a file path) for SQLite, or --db postgres://USER@HOST:PORT/DATABASE';

function badUrl(message: string): ConfigError {
  return new ConfigError(message, { context: { field: '--db' }, hint: HINT });
}

/** The URL with any password replaced by `***`, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

export function parseMetadataUrl(url: string): MetadataLocation {
  const value = url.trim();
  if (value === '') throw badUrl('the metadata database URL is empty');
  if (value === ':memory:') return { kind: 'sqlite', path: ':memory:' };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: 'sqlite', path: value };
  if (scheme === 'sqlite' || scheme === 'sqlite3') {
    // sqlite:PATH, sqlite://PATH (relative) and sqlite:///abs/path all name a file.
    let file = value.slice(scheme.length + 1);
    if (file.startsWith('//')) file = file.slice(2);
    if (file === '') throw badUrl(`no file in ${JSON.stringify(url)}`);
    return { kind: 'sqlite', path: file };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw badUrl(`not a valid PostgreSQL URL: ${JSON.stringify(redactUrl(value))}`);
    }
    if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
      throw badUrl(`no host in ${JSON.stringify(redactUrl(value))}`);
    }
    const schema = parsed.searchParams.get('schema') ?? undefined;
    parsed.searchParams.delete('schema');
    return { kind: 'postgres', connectionString: parsed.toString(), ...(schema !== undefined && { schema }) };
  }
  throw badUrl(
    `unsupported metadata database URL scheme ${JSON.stringify(`${scheme}:`)} in ${JSON.stringify(redactUrl(value))}`,
  );
}

/** Opens the store `url` names and (unless told not to) brings its tables up to date. */
export async function openMetadataStore(
  url: string,
  options: OpenMetadataStoreOptions = {},
): Promise<MetadataStore> {
  const location = parseMetadataUrl(url);
  // Each driver is loaded when used: a command on SQLite need not load pg, nor one on PostgreSQL SQLite.
  const store =
    location.kind === 'sqlite'
      ? (await import('./sqlite.js')).openSqliteStore(location.path, {
          clock: options.clock,
          busyTimeoutMs: options.busyTimeoutMs,
        })
      : (await import('./postgres.js')).openPostgresStore(location.connectionString, {
          clock: options.clock,
          schema: location.schema,
          poolSize: options.poolSize,
        });
  if (options.migrate !== false) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close().catch(() => undefined);
      if (error instanceof MedallionError) throw error;
      throw new MedallionError(
        `cannot prepare the metadata database ${redactUrl(url)}: ${describeError(error)}`,
        {
          context: { field: '--db' },
          cause: error,
        },
      );
    }
  }
  return store;
}
