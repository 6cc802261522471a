/**
 * A PostgreSQL server of a test's own (scripts/services/postgres.sh, in the test's temp dir), for tests that
 * restart the database under running processes: the shared test server must stay up for the other suites.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = path.resolve('scripts/services/postgres.sh');

export interface PrivatePostgres {
  url: string;
  /** A fast shutdown and a start on the same data: every connection is cut, as in a failover. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a server whose data, socket and env file live under `dir` (made traversable for the postgres user). */
export async function startPrivatePostgres(dir: string): Promise<PrivatePostgres> {
  await mkdir(dir, { recursive: true });
  // initdb runs as the postgres user when the tests run as root: it must reach its directory.
  for (let at = dir; at !== path.dirname(at); at = path.dirname(at)) {
    if (at === '/tmp' || at === path.parse(at).root) break;
    await chmod(at, 0o755);
  }
  const envFile = path.join(dir, 'postgres.env');
  // A port of its own (not the shared server's, should POSTGRES_PORT be set).
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    POSTGRES_ENV_FILE: envFile,
    TMPDIR: dir,
    POSTGRES_PORT: '',
  };
  const script = (command: string) => run('bash', [SCRIPT, command], { env, timeout: 120_000 });
  await script('start');
  const url = /^MEDALLION_TEST_POSTGRES_URL='(.*)'$/m.exec(await readFile(envFile, 'utf8'))?.[1];
  if (!url) throw new Error(`postgres.sh start wrote no URL into ${envFile}`);
  return {
    url,
    restart: async () => void (await script('restart')),
    stop: async () => void (await script('stop')),
  };
}
