/**
 * The S3 server the benchmark measures against (the tests' MinIO, see src/services/test-s3-server.ts),
 * and its CPU time.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestS3Server } from '../services/test-s3-server.js';

/**
 * The MinIO version: the module version scripts/services/minio.sh pins (a binary built with
 * `go install` calls itself DEVELOPMENT.GOGET), else `minio --version` of the running binary.
 */
export async function serverVersion(server: TestS3Server): Promise<string | undefined> {
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
export function serverCpuMs(server: TestS3Server): Promise<number | undefined> {
  return server.pid === undefined ? Promise.resolve(undefined) : processCpuMs(server.pid);
}

/** CPU time (user + system, ms) a process of this machine has used so far; undefined when it cannot be read. */
export async function processCpuMs(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces); utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? Math.round((ticks * 1000) / (await clockTicks())) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (ms) every process of the machine has used since boot (/proc/stat user + nice + system). */
export async function machineCpuMs(): Promise<number | undefined> {
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
export async function countCpu(server: TestS3Server): Promise<() => Promise<SpanCpu>> {
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
