import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The env file `bash scripts/services/spark.sh start` writes. */
export const SPARK_ENV_FILE = path.resolve('.cache/services/spark.env');

/** The Spark Connect server the tests share (one cluster per `.ci/run`). */
export interface TestSparkServer {
  /** sc://127.0.0.1:<port> */
  remote: string;
  /** The Connect server's PID when spark.sh started it. */
  pid: number | undefined;
  foundIn: string;
}

/** SPARK_CONNECT_REMOTE from the environment, else from the env file scripts/services/spark.sh writes. */
export function testSparkServer(env: NodeJS.ProcessEnv = process.env): TestSparkServer | { reason: string } {
  if (env.SPARK_CONNECT_REMOTE) {
    const pid = Number(env.SPARK_CONNECT_PID);
    return {
      remote: env.SPARK_CONNECT_REMOTE,
      pid: Number.isInteger(pid) && pid > 0 ? pid : undefined,
      foundIn: 'SPARK_CONNECT_REMOTE',
    };
  }
  if (existsSync(SPARK_ENV_FILE)) {
    const text = readFileSync(SPARK_ENV_FILE, 'utf8');
    const remote = /^SPARK_CONNECT_REMOTE='(.*)'$/m.exec(text)?.[1];
    const pid = Number(/^SPARK_CONNECT_PID='(.*)'$/m.exec(text)?.[1]);
    if (remote) {
      return {
        remote,
        pid: Number.isInteger(pid) && pid > 0 ? pid : undefined,
        foundIn: path.relative(process.cwd(), SPARK_ENV_FILE),
      };
    }
  }
  return {
    reason:
      'no Spark Connect server: SPARK_CONNECT_REMOTE is not set and ' +
      `${path.relative(process.cwd(), SPARK_ENV_FILE)} does not exist; run \`bash scripts/services/spark.sh start\``,
  };
}

/**
 * The test server, or undefined when there is none and the suite should skip (with a warning).
 * Under CI a missing server is an error: the Spark suites must run there.
 */
export function sparkServerOrSkip(suite: string): TestSparkServer | undefined {
  const server = testSparkServer();
  if (!('reason' in server)) return server;
  if (process.env.CI === 'true') throw new Error(`${suite}: CI=true but ${server.reason}`);
  console.warn(`${suite} skipped: ${server.reason}`);
  return undefined;
}
