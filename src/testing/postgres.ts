import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

/** The env file `bash scripts/services/postgres.sh start` writes. */
export const POSTGRES_ENV_FILE = path.resolve('.cache/services/postgres.env');

/** MEDALLION_TEST_POSTGRES_URL from the environment, else from the env file scripts/services/postgres.sh writes. */
export function testPostgresUrl(): string | { reason: string } {
  const fromEnv = process.env.MEDALLION_TEST_POSTGRES_URL;
  if (fromEnv) return fromEnv;
  if (existsSync(POSTGRES_ENV_FILE)) {
    const match = /^MEDALLION_TEST_POSTGRES_URL='(.*)'$/m.exec(readFileSync(POSTGRES_ENV_FILE, 'utf8'));
    if (match?.[1]) return match[1];
  }
  return {
    reason:
      'no test PostgreSQL: MEDALLION_TEST_POSTGRES_URL is not set and ' +
      `${path.relative(process.cwd(), POSTGRES_ENV_FILE)} does not exist; run \`bash scripts/services/postgres.sh start\``,
  };
}

/**
 * The test server's URL, or undefined when there is none and the suite should skip (with a warning).
 * Under CI a missing server is an error: the PostgreSQL suites must run there.
 */
export function postgresOrSkip(suite: string): string | undefined {
  const server = testPostgresUrl();
  if (typeof server === 'string') return server;
  if (process.env.CI === 'true') throw new Error(`${suite}: CI=true but ${server.reason}`);
  console.warn(`${suite} skipped: ${server.reason}`);
  return undefined;
}

/** Fresh schemas on the test server, one per test (on the search_path of the store's connections), dropped at the end. */
export class TestSchemas {
  private readonly prefix = `medallion_test_${process.pid}_${Date.now().toString(36)}`;
  private readonly created: string[] = [];
  private count = 0;

  constructor(private readonly baseUrl: string | undefined) {}

  /** A schema name no other test uses (recorded for `dropAll`). */
  name(label = String(++this.count)): string {
    const schema = `${this.prefix}_${label}`;
    this.created.push(schema);
    return schema;
  }

  /** The server URL naming `schema` (default: a fresh one). */
  url(schema = this.name()): string {
    const url = new URL(this.baseUrl ?? '');
    url.searchParams.set('schema', schema);
    return url.toString();
  }

  async dropAll(): Promise<void> {
    if (!this.baseUrl || this.created.length === 0) return;
    const client = new pg.Client({ connectionString: this.baseUrl });
    await client.connect();
    try {
      for (const schema of this.created.splice(0)) {
        await client.query(`drop schema if exists "${schema}" cascade`);
      }
    } finally {
      await client.end();
    }
  }
}
