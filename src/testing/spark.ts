import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import path from 'node:path';

/** The env file `bash scripts/services/spark.sh start` writes. */
export const SPARK_ENV_FILE = path.resolve('.cache/services/spark.env');

/** The Spark Connect server the tests share (one cluster per `.ci/run`). */
export interface TestSparkServer {
  /** sc://127.0.0.1:<port> */
  remote: string;
  /** The pyspark install spark.sh started it from, when it did. */
  home: string | undefined;
  /** The Connect server's PID when spark.sh started it. */
  pid: number | undefined;
  /** The Maven packages the server was started with (SPARK_LAKE=1: Delta Lake and hadoop-aws). */
  packages: string[];
  /** The standalone workers' PIDs when spark.sh started them (their executors are their children). */
  workerPids: number[];
  foundIn: string;
}

/** The `KEY='value'` lines the service scripts write. */
function readEnvFile(file: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const match of readFileSync(file, 'utf8').matchAll(/^([A-Z0-9_]+)='(.*)'$/gm)) {
    if (match[1] !== undefined && match[2] !== undefined) values[match[1]] = match[2];
  }
  return values;
}

/** SPARK_CONNECT_REMOTE from the environment, else from the env file scripts/services/spark.sh writes. */
export function testSparkServer(env: NodeJS.ProcessEnv = process.env): TestSparkServer | { reason: string } {
  const fromEnv = Boolean(env.SPARK_CONNECT_REMOTE);
  const source: Record<string, string | undefined> = fromEnv
    ? env
    : existsSync(SPARK_ENV_FILE)
      ? readEnvFile(SPARK_ENV_FILE)
      : {};
  const remote = source.SPARK_CONNECT_REMOTE;
  if (remote) {
    const pid = Number(source.SPARK_CONNECT_PID);
    return {
      remote,
      home: source.SPARK_HOME || undefined,
      pid: Number.isInteger(pid) && pid > 0 ? pid : undefined,
      packages: (source.SPARK_CONNECT_PACKAGES ?? '').split(',').filter((name) => name !== ''),
      workerPids: (source.SPARK_WORKER_PIDS ?? '').split(' ').filter(Boolean).map(Number),
      foundIn: fromEnv ? 'SPARK_CONNECT_REMOTE' : path.relative(process.cwd(), SPARK_ENV_FILE),
    };
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

/** True when the server was started with Delta Lake and hadoop-aws (`SPARK_LAKE=1 scripts/services/spark.sh start`). */
export function hasLakePackages(server: TestSparkServer): boolean {
  return ['io.delta:delta-spark', 'org.apache.hadoop:hadoop-aws'].every((name) =>
    server.packages.some((pkg) => pkg.startsWith(`${name}`)),
  );
}

/**
 * The test server when it was started with the lake packages (`SPARK_LAKE=1`), else undefined with a warning (an
 * error under CI): for the suites that read and write a lake on S3 through s3a.
 */
export function sparkLakeServerOrSkip(suite: string): TestSparkServer | undefined {
  const server = sparkServerOrSkip(suite);
  if (!server || hasLakePackages(server)) return server;
  const reason =
    'the Spark Connect server runs without Delta Lake and hadoop-aws (start it with SPARK_LAKE=1)';
  if (process.env.CI === 'true') throw new Error(`${suite}: CI=true but ${reason}`);
  console.warn(`${suite} skipped: ${reason}`);
  return undefined;
}

/** A loopback TCP proxy to a Spark Connect server, which a test can cut or take down as a network failure would. */
export interface SparkProxy {
  /** sc://127.0.0.1:<the proxy's port> */
  remote: string;
  /** Connections accepted so far. */
  connections(): number;
  /** Breaks the open connections (new ones are accepted). */
  cut(): void;
  /** Breaks the open connections and refuses new ones until `up()`, as a stopped server would. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function sparkProxy(remote: string): Promise<SparkProxy> {
  const target = /^sc:\/\/([^:/]+):(\d+)/.exec(remote);
  if (!target?.[1] || !target[2]) throw new Error(`cannot proxy ${remote}`);
  const [host, port] = [target[1], Number(target[2])];
  const sockets = new Set<Socket>();
  let connections = 0;
  const proxy = createServer((downstream) => {
    connections += 1;
    const upstream = connect(port, host);
    for (const socket of [downstream, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        downstream.destroy();
        upstream.destroy();
      });
    }
    downstream.pipe(upstream).pipe(downstream);
  });
  const listen = (at: number): Promise<void> =>
    new Promise((resolve) => proxy.listen(at, '127.0.0.1', resolve));
  await listen(0);
  const address = proxy.address();
  if (address === null || typeof address === 'string') throw new Error('no proxy port');
  const cut = (): void => sockets.forEach((socket) => socket.destroy());
  const stop = (): Promise<void> => {
    cut();
    return new Promise((resolve) => proxy.close(() => resolve()));
  };
  return {
    remote: `sc://127.0.0.1:${address.port}`,
    connections: () => connections,
    cut,
    down: stop,
    up: () => listen(address.port),
    close: () => (proxy.listening ? stop() : Promise.resolve()),
  };
}

/** The executor JVMs a standalone worker runs now (its children running CoarseGrainedExecutorBackend). */
export function executorPids(workerPid: number): number[] {
  const children = readdirSync(`/proc/${workerPid}/task`).flatMap((thread) =>
    readFileSync(`/proc/${workerPid}/task/${thread}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
  );
  return children.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('CoarseGrainedExecutorBackend');
    } catch {
      return false;
    }
  });
}
