/**
 * A Spark Connect server of a test's own: one JVM in local mode (driver and executor in one process, one core), on a
 * loopback port of its own, which the test can kill as a crash would and start again on the same port. Started from
 * the pyspark install `scripts/services/spark.sh` made (its SPARK_HOME).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import path from 'node:path';

export interface SparkConnectProcess {
  /** sc://127.0.0.1:<its port>, the same across restarts. */
  remote: string;
  /** Starts the server and waits until it listens (a JVM's start: 10 to 40 s). */
  start(): Promise<void>;
  /** SIGKILL: the server dies as in a crash, its sessions and operations with it. */
  kill(): Promise<void>;
}

const START_TIMEOUT_MS = 120_000;

/** A server under `dir` (its logs, temp and warehouse files); not started yet. */
export async function sparkConnectProcess(sparkHome: string, dir: string): Promise<SparkConnectProcess> {
  const port = await freePort();
  await Promise.all(
    ['conf', 'tmp', 'local', 'warehouse'].map((sub) => mkdir(path.join(dir, sub), { recursive: true })),
  );
  let child: ChildProcess | undefined;
  let starts = 0;
  return {
    remote: `sc://127.0.0.1:${port}`,
    async start() {
      starts += 1;
      const log = path.join(dir, `connect-${starts}.log`);
      const out = openSync(log, 'w');
      child = spawn(path.join(sparkHome, 'bin', 'spark-submit'), submitArguments(port, dir), {
        cwd: dir,
        // Its own process group: kill() ends the JVM and the launcher scripts around it, nothing else.
        detached: true,
        stdio: ['ignore', out, out],
        env: {
          ...process.env,
          SPARK_HOME: sparkHome,
          SPARK_LOCAL_IP: '127.0.0.1',
          // An empty conf dir: nothing of a machine-wide SPARK_CONF_DIR.
          SPARK_CONF_DIR: path.join(dir, 'conf'),
        },
      });
      closeSync(out);
      await untilListening(port, child, log);
    },
    async kill() {
      const running = child;
      if (!running?.pid || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      process.kill(-running.pid, 'SIGKILL');
      await exited;
    },
  };
}

function submitArguments(port: number, dir: string): string[] {
  const conf = {
    'spark.connect.grpc.binding.address': '127.0.0.1',
    'spark.connect.grpc.binding.port': String(port),
    'spark.driver.host': '127.0.0.1',
    'spark.driver.bindAddress': '127.0.0.1',
    'spark.ui.enabled': 'false',
    'spark.sql.session.timeZone': 'UTC',
    'spark.sql.warehouse.dir': path.join(dir, 'warehouse'),
    'spark.local.dir': path.join(dir, 'local'),
  };
  return [
    '--class',
    'org.apache.spark.sql.connect.service.SparkConnectServer',
    '--name',
    'medallion-test-connect',
    '--master',
    'local[1]',
    '--driver-memory',
    '768m',
    '--driver-java-options',
    `-Djava.io.tmpdir=${path.join(dir, 'tmp')}`,
    ...Object.entries(conf).flatMap(([key, value]) => ['--conf', `${key}=${value}`]),
    'spark-internal',
  ];
}

async function untilListening(port: number, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
      const tail = readFileSync(log, 'utf8').split('\n').slice(-30).join('\n');
      throw new Error(`the Spark Connect server on port ${port} did not start; the end of ${log}:\n${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port')),
      );
    });
  });
}
