/**
 * The S3 server the benchmark measures against: the MinIO of `scripts/services/minio.sh`, found the
 * way the tests find it (src/testing/minio.ts, which is not compiled into dist), and its CPU time.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

export interface BenchS3Server {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** MinIO's process id when minio.sh started it (from the env file), for its CPU time. */
  pid: number | undefined;
  /** Where the server was found, for the report. */
  foundIn: string;
}

export const MINIO_ENV_FILE = path.resolve('.cache/services/minio.env');

/** Reads the `KEY='value'` lines minio.sh writes. */
function readEnvFile(file: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)='(.*)'$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) values[match[1]] = match[2];
  }
  return values;
}

/**
 * The server from MEDALLION_TEST_S3_* in the environment, else from .cache/services/minio.env;
 * `{ reason }` when neither names one.
 */
export function benchS3Server(env: NodeJS.ProcessEnv = process.env): BenchS3Server | { reason: string } {
  const fromEnv = Boolean(env.MEDALLION_TEST_S3_ENDPOINT);
  const source: Record<string, string | undefined> = fromEnv
    ? env
    : existsSync(MINIO_ENV_FILE)
      ? readEnvFile(MINIO_ENV_FILE)
      : {};
  const endpoint = source.MEDALLION_TEST_S3_ENDPOINT;
  const accessKeyId = source.MEDALLION_TEST_S3_ACCESS_KEY;
  const secretAccessKey = source.MEDALLION_TEST_S3_SECRET_KEY;
  if (!endpoint || !accessKeyId || !secretAccessKey) {
    return {
      reason:
        'no S3 server: MEDALLION_TEST_S3_ENDPOINT/_ACCESS_KEY/_SECRET_KEY are not set and ' +
        `${path.relative(process.cwd(), MINIO_ENV_FILE)} does not exist; run \`bash scripts/services/minio.sh start\``,
    };
  }
  const pid = Number(source.MINIO_PID);
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    region: source.MEDALLION_TEST_S3_REGION ?? 'us-east-1',
    pid: Number.isInteger(pid) && pid > 0 ? pid : undefined,
    foundIn: fromEnv
      ? 'MEDALLION_TEST_S3_* environment variables'
      : path.relative(process.cwd(), MINIO_ENV_FILE),
  };
}

/** The environment that points medallion's own S3 settings (MEDALLION_S3_*) at the server. */
export function s3EnvFor(server: BenchS3Server, cacheDir: string): NodeJS.ProcessEnv {
  return {
    MEDALLION_S3_ENDPOINT: server.endpoint,
    MEDALLION_S3_REGION: server.region,
    MEDALLION_S3_ACCESS_KEY: server.accessKeyId,
    MEDALLION_S3_SECRET_KEY: server.secretAccessKey,
    MEDALLION_S3_PATH_STYLE: 'true',
    MEDALLION_CACHE_DIR: cacheDir,
  };
}

/**
 * The MinIO version: the module version scripts/services/minio.sh pins (a binary built with
 * `go install` calls itself DEVELOPMENT.GOGET), else `minio --version` of the running binary.
 */
export async function serverVersion(server: BenchS3Server): Promise<string | undefined> {
  if (server.pid === undefined) return undefined;
  const script = await readFile(path.resolve('scripts/services/minio.sh'), 'utf8').catch(() => '');
  const pinned = /^MINIO_VERSION=(\S+)$/m.exec(script)?.[1];
  if (pinned) return `MinIO github.com/minio/minio@${pinned}, pinned in scripts/services/minio.sh`;
  try {
    const { stdout } = await promisify(execFile)(`/proc/${server.pid}/exe`, ['--version'], {
      timeout: 5_000,
    });
    return stdout.split('\n')[0]?.trim() || undefined;
  } catch {
    return undefined;
  }
}

let ticksPerSecond: Promise<number> | undefined;

/** The kernel's clock ticks per second (USER_HZ), the unit of /proc CPU times. */
function clockTicks(): Promise<number> {
  ticksPerSecond ??= promisify(execFile)('getconf', ['CLK_TCK']).then(
    ({ stdout }) => Number(stdout.trim()) || 100,
    () => 100,
  );
  return ticksPerSecond;
}

/** CPU time (user + system, ms) the server process has used so far; undefined when it cannot be read. */
export async function serverCpuMs(server: BenchS3Server): Promise<number | undefined> {
  if (server.pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${server.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces); utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? Math.round((ticks * 1000) / (await clockTicks())) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (ms) every process of the machine has used since boot (/proc/stat user + nice + system). */
async function machineCpuMs(): Promise<number | undefined> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
    // user, nice and system only: interrupt time (loopback traffic) is charged to no process.
    const [, user = 0, nice = 0, system = 0] = line.trim().split(/\s+/).map(Number);
    const ticks = user + nice + system;
    return Number.isFinite(ticks) ? Math.round((ticks * 1000) / (await clockTicks())) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU used while one measurement ran, beside the measured process's own. */
export interface SpanCpu {
  /** By the S3 server process. */
  serverCpuMs?: number;
  /** By every process of the machine (the measured one, the server, and anything else running). */
  machineCpuMs?: number;
}

/** Starts counting; the function returned gives the CPU used since. */
export async function countCpu(server: BenchS3Server): Promise<() => Promise<SpanCpu>> {
  const serverBefore = await serverCpuMs(server);
  const machineBefore = await machineCpuMs();
  return async () => {
    const serverAfter = await serverCpuMs(server);
    const machineAfter = await machineCpuMs();
    return {
      ...(serverBefore !== undefined && serverAfter !== undefined
        ? { serverCpuMs: serverAfter - serverBefore }
        : {}),
      ...(machineBefore !== undefined && machineAfter !== undefined
        ? { machineCpuMs: machineAfter - machineBefore }
        : {}),
    };
  };
}
