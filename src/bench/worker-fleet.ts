/**
 * A fleet of medallion processes for the workers benchmark, as `deploy/processes/fleet.mjs` starts them: one
 * `medallion scheduler --no-execute` and N `medallion worker`s, or one `medallion scheduler` that executes too,
 * on a PostgreSQL metadata database. Each process connects with its own `application_name`, so that the server's
 * backends serving it are known (their CPU is counted) and its wake-up connection can be seen listening.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import {
  killSchedulerProcesses,
  startMedallionProcess,
  stopGracefully,
  waitFor,
  type SchedulerProcess,
} from '../testing/scheduler-process.js';
import type { OperationTiming } from './measure.js';
import type { ProcessProfile } from './process-profile.js';
import { machineCpuMs, processCpuMs } from './s3-server.js';

/** Who executes the tasks: the scheduler itself, or this many worker processes beside a --no-execute one. */
export type Executors = 'scheduler' | number;

export interface FleetSpec {
  /** The project file every process reads (its pipelines). */
  config: string;
  /** The metadata database (PostgreSQL, with its `?schema=`). */
  database: string;
  executors: Executors;
  /** Flags given to every process that executes (e.g. `--slots 8`). */
  executorArgs: readonly string[];
  /** Flags given to every process (e.g. `--single-host`). */
  args?: readonly string[];
  /** The environment of each process, by its name (e.g. its own object cache). */
  env?: (name: string) => NodeJS.ProcessEnv;
  /** Prefix of the processes' application_name (unique to this fleet). */
  tag: string;
  /** Where each process writes its tally of store calls and statements (process-profile.ts), when asked. */
  profileDir?: string;
}

/** The store calls and SQL statements of each kind of process, summed over the processes of that kind. */
export interface FleetProfile {
  scheduler: Omit<ProcessProfile, 'seq'>;
  workers: Omit<ProcessProfile, 'seq'>;
}

const PROFILE_HOOK = pathToFileURL(path.resolve('dist/bench/process-profile.js')).href;

/** CPU time (ms) used since the fleet was sampled, by kind of process. */
export interface FleetCpu {
  scheduler: number;
  /** Every worker process together (0 when the scheduler executes). */
  workers: number;
  /** The PostgreSQL backends serving the fleet's connections. */
  postgres: number;
  /** Every process of the machine (the fleet, the server, the benchmark, anything else running). */
  machine: number;
}

interface Member {
  name: string;
  /** Its name in attempts (a worker's --name; the scheduler's host:pid:random). */
  workerId: string;
  kind: 'scheduler' | 'worker';
  process: SchedulerProcess;
}

type CpuSnapshot = Map<string, number>;

export class Fleet {
  private constructor(
    private readonly spec: FleetSpec,
    readonly members: readonly Member[],
  ) {}

  /** Starts the processes and resolves once each has announced itself and listens for wake-ups. */
  static async start(spec: FleetSpec): Promise<Fleet> {
    const executes = spec.executors === 'scheduler';
    const names = executes
      ? ['scheduler']
      : ['scheduler', ...Array.from({ length: spec.executors as number }, (_, index) => `w${index + 1}`)];
    const members: Member[] = [];
    const fleet = new Fleet(spec, members);
    try {
      for (const name of names) {
        const kind = name === 'scheduler' ? 'scheduler' : 'worker';
        const args = [
          kind,
          '--config',
          spec.config,
          '--db',
          fleet.databaseOf(name),
          ...(kind === 'worker' ? ['--name', `${spec.tag}_${name}`] : []),
          ...(kind === 'scheduler' && !executes ? ['--no-execute'] : spec.executorArgs),
          ...(spec.args ?? []),
        ];
        const profile = spec.profileDir && {
          nodeArgs: ['--import', PROFILE_HOOK],
          env: { MEDALLION_BENCH_PROFILE: path.join(spec.profileDir, `${name}.json`) },
        };
        const env = { ...spec.env?.(name), ...(profile && profile.env) };
        members.push({
          name,
          workerId: '',
          kind,
          process: startMedallionProcess(args, { env, ...(profile && { nodeArgs: profile.nodeArgs }) }),
        });
      }
      for (const member of members) member.workerId = await member.process.worker();
      await fleet.untilListening();
      return fleet;
    } catch (error) {
      await fleet.stop();
      throw error;
    }
  }

  /** The database URL of one process: its application_name says which. */
  private databaseOf(name: string): string {
    const url = new URL(this.spec.database);
    url.searchParams.set('application_name', `${this.spec.tag}_${name}`);
    return url.toString();
  }

  private async query<Row extends object>(text: string, values: unknown[]): Promise<Row[]> {
    const server = new URL(this.spec.database);
    server.searchParams.delete('schema');
    const client = new pg.Client({ connectionString: server.toString() });
    await client.connect();
    try {
      return (await client.query<Row>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  /** A LISTEN connection per process: before that, a wake-up would be missed and work seen a poll later. */
  private async untilListening(): Promise<void> {
    await waitFor(
      async () => {
        const rows = await this.query<{ listening: string }>(
          `select count(*) as listening from pg_stat_activity
            where application_name like $1 and query ilike 'listen %'`,
          [`${this.spec.tag}\\_%`],
        );
        return Number(rows[0]?.listening) >= this.members.length;
      },
      {
        what: `the ${this.members.length} processes to listen for wake-ups`,
        timeoutMs: 30_000,
        detail: () => this.output(),
      },
    );
  }

  /** CPU time used so far by each process, each backend serving them and the machine. */
  async sample(): Promise<CpuSnapshot> {
    const snapshot: CpuSnapshot = new Map();
    for (const member of this.members) {
      snapshot.set(`${member.kind}:${member.name}`, (await processCpuMs(member.process.pid)) ?? 0);
    }
    const backends = await this.query<{ pid: number }>(
      'select pid from pg_stat_activity where application_name like $1',
      [`${this.spec.tag}\\_%`],
    );
    for (const { pid } of backends) snapshot.set(`postgres:${pid}`, (await processCpuMs(pid)) ?? 0);
    snapshot.set('machine:', (await machineCpuMs()) ?? 0);
    return snapshot;
  }

  /** CPU used between two samples; a backend that appeared meanwhile counts from zero. */
  static cpuBetween(before: CpuSnapshot, after: CpuSnapshot): FleetCpu {
    const cpu: FleetCpu = { scheduler: 0, workers: 0, postgres: 0, machine: 0 };
    for (const [key, value] of after) {
      const kind = key.slice(0, key.indexOf(':'));
      const used = Math.max(0, value - (before.get(key) ?? 0));
      if (kind === 'scheduler') cpu.scheduler += used;
      else if (kind === 'worker') cpu.workers += used;
      else if (kind === 'postgres') cpu.postgres += used;
      else cpu.machine += used;
    }
    return cpu;
  }

  /**
   * What each process tallied since the last call (the first call only starts the count): SIGUSR2 to each, then
   * its file, once rewritten.
   */
  async profile(): Promise<FleetProfile | undefined> {
    const dir = this.spec.profileDir;
    if (!dir) return undefined;
    const total: FleetProfile = {
      scheduler: { calls: [], statements: [] },
      workers: { calls: [], statements: [] },
    };
    for (const member of this.members) {
      const file = path.join(dir, `${member.name}.json`);
      const read = async () =>
        JSON.parse(await readFile(file, 'utf8').catch(() => '{"seq":0}')) as ProcessProfile;
      const seq = (await read()).seq;
      process.kill(member.process.pid, 'SIGUSR2');
      const written = await waitFor(
        async () => {
          const profile = await read();
          return profile.seq > seq ? profile : undefined;
        },
        {
          what: `${member.name}'s profile`,
          intervalMs: 10,
        },
      );
      const into = member.kind === 'scheduler' ? total.scheduler : total.workers;
      add(into.calls, written.calls);
      add(into.statements, written.statements);
    }
    return total;
  }

  /** What the processes printed, for failures. */
  output(): string {
    return this.members.map((member) => `--- ${member.name}\n${member.process.output()}`).join('\n');
  }

  /** SIGTERM to each (they finish or hand back their tries), SIGKILL after a grace period. */
  async stop(graceMs = 30_000): Promise<void> {
    await Promise.all(this.members.map((member) => stopGracefully(member.process, graceMs)));
    await killSchedulerProcesses();
  }
}

/** Adds each operation's calls and busy time into `into` (by name). */
function add(into: OperationTiming[], more: readonly OperationTiming[]): void {
  for (const operation of more) {
    const existing = into.find((entry) => entry.name === operation.name);
    if (existing) {
      existing.calls += operation.calls;
      existing.busyMs += operation.busyMs;
    } else into.push({ ...operation });
  }
}
