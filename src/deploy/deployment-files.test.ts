/**
 * The deployment files (deploy/) start what they say. Every medallion command of deploy/compose.yaml (the image's
 * entrypoint and the service's `command:`, its environment interpolated as Compose does) and of the systemd units
 * (ExecStart= with its specifiers and variables expanded as systemd does, from its EnvironmentFile=s) is started
 * for real from the build, in a working directory holding deploy/medallion.config.json adapted to fresh buckets,
 * against the test PostgreSQL (a fresh schema) and MinIO: each announces itself, the fleet shows them, the web UI
 * answers /api/health, and each exits 0 on SIGTERM. The addresses of PostgreSQL and MinIO, the cache and the
 * temp directory are the test's; so are serve's address and port (127.0.0.1, any free port). `npm run build` first.
 */
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  composeDurationMs,
  composeReferences,
  dockerIgnores,
  environmentAssignments,
  execStartArgs,
  expandSpecifiers,
  parseDockerfile,
  parseEnvFile,
  parseUnitFile,
  readComposeFile,
  stageCopies,
  stageExecForm,
  unitSetting,
  type ComposeFile,
  type ComposeService,
} from '../testing/deploy-files.js';
import { clientFor, removeBuckets } from '../services/s3-admin.js';
import { freshBucketName, s3EnvFor, s3ServerOrSkip, type TestS3Server } from '../testing/minio.js';
import { postgresOrSkip, TestSchemas } from '../testing/postgres.js';
import {
  killSchedulerProcesses,
  MEDALLION_BIN,
  startMedallionProcess,
  stopGracefully,
  waitFor,
} from '../testing/scheduler-process.js';

const DEPLOY = path.resolve('deploy');
const COMPOSE_TEXT = readFileSync(path.join(DEPLOY, 'compose.yaml'), 'utf8');
const PROJECT = JSON.parse(readFileSync(path.join(DEPLOY, 'medallion.config.json'), 'utf8')) as {
  database?: string;
  source: string;
  lake: string;
  scheduler?: { drainGraceMs?: number };
  serve?: unknown;
};
const DRAIN_GRACE_MS = PROJECT.scheduler?.drainGraceMs ?? 60_000;
const SYSTEMD = path.join(DEPLOY, 'systemd');
/** Where the units and deploy/README.md keep the environment files and the project file. */
const SYSTEMD_CONFIG_DIR = '/etc/medallion';

/** What the operator provides to Compose: none of these has a default. */
const SECRETS = {
  POSTGRES_PASSWORD: randomBytes(12).toString('hex'),
  MINIO_ROOT_PASSWORD: randomBytes(12).toString('hex'),
  MEDALLION_SECRET_KEY: randomBytes(32).toString('base64'),
  MEDALLION_ADMIN_PASSWORD: randomBytes(12).toString('base64url'),
};

/** What serve says when MEDALLION_ADMIN_PASSWORD reached it on an empty database. */
const ADMIN_MADE = 'made the user admin (admin) with the password in MEDALLION_ADMIN_PASSWORD';

const postgres = postgresOrSkip('Deployment files');
const s3 = s3ServerOrSkip('Deployment files');
const schemas = new TestSchemas(postgres);
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await killSchedulerProcesses();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await killSchedulerProcesses();
  await schemas.dropAll();
});

/** One process of a deployment: the medallion arguments after the entry point, and its environment. */
interface Member {
  name: string;
  args: string[];
  env: Record<string, string>;
}

function compose(env: Record<string, string> = SECRETS): ComposeFile {
  return readComposeFile(COMPOSE_TEXT, env);
}

/** The services that run the medallion image, by name. */
function medallionServices(file: ComposeFile): [string, ComposeService][] {
  return Object.entries(file.services).filter(
    ([, service]) => service.build?.dockerfile === 'deploy/Dockerfile',
  );
}

function dockerStages() {
  return parseDockerfile(readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8'));
}

function finalStage() {
  const stage = dockerStages().at(-1);
  if (!stage) throw new Error('deploy/Dockerfile has no stage');
  return stage;
}

/** The value after `flag` in `args`, replaced by `value`. */
function replaceFlag(args: string[], flag: string, value: string): { was: string; args: string[] } {
  const at = args.indexOf(flag);
  expect(at, `${flag} in ${args.join(' ')}`).toBeGreaterThanOrEqual(0);
  const copy = [...args];
  const was = copy[at + 1] as string;
  copy[at + 1] = value;
  return { was, args: copy };
}

/**
 * A working directory holding the project file as deploy/ ships it, but on fresh buckets (the source bucket made,
 * as compose's minio-init does; the lake's buckets are medallion's to make) and serving on 127.0.0.1 at any port;
 * and the environment that points at the test's PostgreSQL schema and MinIO.
 */
async function deploymentPlace(
  server: TestS3Server,
): Promise<{ dir: string; services: Record<string, string> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-deploy-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const buckets = freshBucketName('deploy');
  const client = clientFor(server);
  // MinIO is left as it was found: every bucket of this place emptied and removed.
  cleanups.push(async () => {
    await removeBuckets(client, buckets);
    client.destroy();
  });
  await client.send(new CreateBucketCommand({ Bucket: `${buckets}-sources` }));
  // The shipped file reads the source bucket and writes a bucket per layer, and takes its database from
  // MEDALLION_DB: only the bucket names and serve's address change here.
  expect(PROJECT).toMatchObject({ source: 's3://sources', lake: 's3://' });
  expect(PROJECT.database).toBeUndefined();
  const project = {
    ...PROJECT,
    source: `s3://${buckets}-sources`,
    lake: `s3://${buckets}-{layer}`,
    serve: { host: '127.0.0.1', port: 0 },
  };
  await writeFile(path.join(dir, 'medallion.config.json'), `${JSON.stringify(project, null, 2)}\n`);
  await mkdir(path.join(dir, 'tmp'));
  const services = {
    MEDALLION_DB: schemas.url(),
    ...s3EnvFor(server, path.join(dir, 'cache')),
    TMPDIR: path.join(dir, 'tmp'),
  } as Record<string, string>;
  return { dir, services };
}

/** The environment a member gets, and nothing of the test's own MEDALLION_* settings. */
function processEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.keys(process.env).filter((key) => key.startsWith('MEDALLION_') && !(key in env));
  return { ...Object.fromEntries(inherited.map((key) => [key, undefined])), ...env };
}

/**
 * Starts every member in `dir` and waits until each has announced itself, the server answers /api/health and has
 * made the first admin from MEDALLION_ADMIN_PASSWORD, and `medallion workers` shows `workers` (with a scheduler
 * and the server); hands the running topology to `check`, then stops each with SIGTERM and expects exit 0.
 */
async function runTopology(
  dir: string,
  members: Member[],
  workers: string[],
  check: (serveUrl: string) => Promise<void> = async () => {},
): Promise<void> {
  const started = members.map((member) => ({
    member,
    process: startMedallionProcess(member.args, { cwd: dir, env: processEnv(member.env) }),
  }));
  const detail = () =>
    started.map(({ member, process }) => `--- ${member.name}\n${process.output()}`).join('\n');
  for (const { process } of started) await process.worker().catch((error: Error) => fail(error, detail()));
  const serve = started.find(({ member }) => member.args[0] === 'serve');
  if (!serve) throw new Error('no serve among the members');
  const url = await waitFor(async () => /listening on (\S+)/.exec(serve.process.output())?.[1], {
    what: 'serve to listen',
    detail,
  });
  const health = await fetch(`${url}/api/health`);
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: 'ok' });
  expect(stripVTControlCharacters(serve.process.output())).toContain(ADMIN_MADE);
  expect(fleetShape(await fleet(dir, members[0] as Member))).toEqual([
    'scheduler  - -',
    'serve  - -',
    ...workers.map((worker) => `worker ${worker}`),
  ]);
  await check(url);
  const exits = await Promise.all(
    started.map(async ({ member, process }) => ({
      name: member.name,
      exit: await stopGracefully(process, DRAIN_GRACE_MS + 20_000),
    })),
  );
  for (const { name, exit } of exits) {
    expect(exit, `${name} on SIGTERM:\n${detail()}`).toEqual({ code: 0, signal: null });
  }
}

function fail(error: Error, detail: string): never {
  throw new Error(`${error.message}\n${detail}`);
}

interface FleetEntry {
  id: string;
  kind: string;
  queues: string[] | null;
  slots: number | null;
  state: string;
}

/** `medallion workers --json`, run as the first member would be. */
async function fleet(dir: string, member: Member): Promise<FleetEntry[]> {
  const listing = startMedallionProcess(['workers', '--json'], { cwd: dir, env: processEnv(member.env) });
  const exit = await listing.exited;
  expect(exit, listing.output()).toEqual({ code: 0, signal: null });
  return JSON.parse(listing.stdout()) as FleetEntry[];
}

/** Kind, name (for workers) and queues of each live process, sorted, as `medallion workers` shows them. */
function fleetShape(entries: FleetEntry[]): string[] {
  return entries
    .filter((entry) => entry.state === 'alive')
    .map((entry) =>
      [
        entry.kind,
        entry.kind === 'worker' ? entry.id : '',
        entry.queues?.join(',') ?? '-',
        entry.slots ?? '-',
      ].join(' '),
    )
    .sort();
}

/** The medallion processes compose.yaml starts: the image's entrypoint with each service's command. */
function composeMembers(services: Record<string, string>): Member[] {
  const entrypoint = stageExecForm(finalStage(), 'ENTRYPOINT') ?? [];
  expect(entrypoint.slice(0, 2)).toEqual(['node', '/app/dist/cli/main.js']);
  return medallionServices(compose()).map(([name, service]) => {
    if (!Array.isArray(service.command)) throw new Error(`${name}: command should be a list`);
    const env = Object.fromEntries(
      Object.entries(service.environment ?? {}).map(([key, value]) => [key, String(value)]),
    );
    return { name, args: [...entrypoint.slice(2), ...service.command], env: { ...env, ...services } };
  });
}

/** The units and their instances started here: a worker with no file of its own, and one with one. */
const UNIT_INSTANCES: Record<string, (string | undefined)[]> = {
  'medallion-scheduler.service': [undefined],
  'medallion-worker@.service': ['etl-1', 'heavy-1'],
  'medallion-serve.service': [undefined],
};

/** An EnvironmentFile= of the units, read from deploy/systemd (where the README copies them from). */
function unitEnvironmentFile(setting: string, instance: string | undefined): Record<string, string> {
  const optional = setting.startsWith('-');
  const file = expandSpecifiers(setting.replace(/^-/, ''), instance);
  expect(path.posix.dirname(file)).toBe(SYSTEMD_CONFIG_DIR);
  const local = path.join(SYSTEMD, path.posix.basename(file));
  if (!existsSync(local)) {
    expect(optional, `${file} is required but deploy/systemd has no example of it`).toBe(true);
    return {};
  }
  return parseEnvFile(readFileSync(local, 'utf8'));
}

/** The medallion processes the systemd units start, with their environments as systemd gives them. */
function systemdMembers(services: Record<string, string>): Member[] {
  // A unit added to deploy/systemd must be started here too.
  const units = readdirSync(SYSTEMD).filter((file) => file.endsWith('.service'));
  expect(units.sort()).toEqual(Object.keys(UNIT_INSTANCES).sort());
  return Object.entries(UNIT_INSTANCES).flatMap(([file, instances]) => {
    const unit = parseUnitFile(readFileSync(path.join(SYSTEMD, file), 'utf8'));
    return instances.map((instance) => {
      const settings = unit.get('Service');
      const own = environmentAssignments(
        (settings?.get('Environment') ?? []).map((value) => expandSpecifiers(value, instance)),
      );
      // Later files override earlier ones, and files override Environment=.
      const fromFiles = Object.assign(
        {},
        ...(settings?.get('EnvironmentFile') ?? []).map((setting) => unitEnvironmentFile(setting, instance)),
      ) as Record<string, string>;
      const env = { ...own, ...fromFiles };
      // The example leaves the secrets blank for the operator: the test fills them in (or points them at its
      // services), and nothing else may be left blank.
      const provided: Record<string, string> = {
        MEDALLION_SECRET_KEY: SECRETS.MEDALLION_SECRET_KEY,
        MEDALLION_ADMIN_PASSWORD: SECRETS.MEDALLION_ADMIN_PASSWORD,
        ...services,
      };
      for (const [key, value] of Object.entries(env)) {
        if (value === '') expect(provided, `${key} is blank in the example`).toHaveProperty(key);
      }
      const filled = { ...env, ...provided };
      const [node, script, ...args] = execStartArgs(
        expandSpecifiers(unitSetting(unit, 'ExecStart'), instance),
        filled,
      );
      expect(path.posix.basename(node ?? '')).toBe('node');
      expect(script).toMatch(/^\/.*\/dist\/cli\/main\.js$/);
      return { name: instance ? file.replace('@', `@${instance}`) : file, args, env: filled };
    });
  });
}

describe.skipIf(postgres === undefined || s3 === undefined)('the deployment files, started for real', () => {
  it('compose.yaml starts a scheduler, two workers and the web UI that work together and stop cleanly', async () => {
    const server = s3 as TestS3Server;
    const { dir, services } = await deploymentPlace(server);
    const members = composeMembers(services).map((member) => {
      if (member.args[0] !== 'serve') return member;
      // Inside its container serve listens on every address at 8080; here, on 127.0.0.1 at a free port.
      const host = replaceFlag(member.args, '--host', '127.0.0.1');
      const port = replaceFlag(host.args, '--port', '0');
      expect(host.was).toBe('0.0.0.0');
      expect(compose().services[member.name]?.ports).toEqual([`127.0.0.1:${port.was}:${port.was}`]);
      return { ...member, args: port.args };
    });
    expect(members.map((member) => member.name).sort()).toEqual([
      'scheduler',
      'serve',
      'worker-1',
      'worker-2',
    ]);
    const workers = ['worker-1 default 2', 'worker-2 default,heavy 2'];
    await runTopology(dir, members, workers, async (url) => {
      // The container's healthcheck, against this server's port.
      const test = compose().services.serve?.healthcheck?.test;
      if (!Array.isArray(test) || test[0] !== 'CMD')
        throw new Error('serve: healthcheck test should be CMD, …');
      const [command, ...args] = test.slice(1);
      expect(command).toBe('node');
      const port = new URL(url).port;
      const healthy = await new Promise<number | null>((resolve) => {
        const child = spawn(
          process.execPath,
          args.map((arg) => arg.replace('127.0.0.1:8080', `127.0.0.1:${port}`)),
          { stdio: 'ignore' },
        );
        child.once('close', resolve);
      });
      expect(healthy).toBe(0);
    });
  });

  it('the systemd units start a scheduler, workers and the web UI that work together and stop cleanly', async () => {
    const server = s3 as TestS3Server;
    const { dir, services } = await deploymentPlace(server);
    const members = systemdMembers(services);
    expect(members.map((member) => member.name)).toEqual([
      'medallion-scheduler.service',
      'medallion-worker@etl-1.service',
      'medallion-worker@heavy-1.service',
      'medallion-serve.service',
    ]);
    await runTopology(dir, members, ['etl-1 default 2', 'heavy-1 heavy 1']);
  });
});

describe('compose.yaml', () => {
  it('refuses to start without each secret, and gives none a default', () => {
    for (const name of Object.keys(SECRETS)) {
      const without = Object.fromEntries(Object.entries(SECRETS).filter(([key]) => key !== name));
      expect(() => compose(without)).toThrow(`required variable ${name} is missing a value`);
    }
    const secrets = composeReferences(COMPOSE_TEXT).filter(({ name }) => /PASSWORD|SECRET/.test(name));
    expect(secrets.length).toBeGreaterThan(0);
    for (const reference of secrets) expect(reference, reference.name).toMatchObject({ operator: ':?' });
  });

  it('points every medallion service at the one PostgreSQL and the one MinIO, once both are ready', () => {
    const file = compose();
    const services = medallionServices(file);
    expect(services.length).toBeGreaterThan(0);
    expect(file.services.postgres?.healthcheck).toBeDefined();
    expect(file.services.minio?.healthcheck).toBeDefined();
    for (const [name, service] of services) {
      const env = service.environment ?? {};
      expect(new URL(String(env.MEDALLION_DB)).protocol, name).toBe('postgres:');
      expect(new URL(String(env.MEDALLION_DB)).hostname, name).toBe('postgres');
      expect(new URL(String(env.MEDALLION_S3_ENDPOINT)).hostname, name).toBe('minio');
      expect(service.depends_on, name).toEqual({
        postgres: { condition: 'service_healthy' },
        'minio-init': { condition: 'service_completed_successfully' },
      });
      expect(file.services['minio-init']?.depends_on).toEqual({ minio: { condition: 'service_healthy' } });
    }
  });

  it('mounts the project file in the working directory and lets a stopping process drain', () => {
    for (const [name, service] of medallionServices(compose())) {
      expect(service.volumes, name).toContain(
        `./medallion.config.json:${service.working_dir}/medallion.config.json:ro`,
      );
      expect(composeDurationMs(service.stop_grace_period ?? '10s'), name).toBeGreaterThan(DRAIN_GRACE_MS);
    }
  });

  it('publishes its ports on 127.0.0.1 unless told otherwise', () => {
    const ports = Object.values(compose().services).flatMap((service) => service.ports ?? []);
    expect(ports.length).toBeGreaterThan(0);
    for (const port of ports) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    const elsewhere = compose({ ...SECRETS, MEDALLION_PUBLISH_ADDRESS: '10.0.0.5' }).services.serve?.ports;
    expect(elsewhere).toEqual(['10.0.0.5:8080:8080']);
  });
});

describe('the systemd units', () => {
  it.each(Object.keys(UNIT_INSTANCES))(
    '%s runs as its own user in the project directory, drains on SIGTERM and restarts on failure',
    (file) => {
      const unit = parseUnitFile(readFileSync(path.join(SYSTEMD, file), 'utf8'));
      expect(unitSetting(unit, 'User')).toBe('medallion');
      expect(unitSetting(unit, 'WorkingDirectory')).toBe(SYSTEMD_CONFIG_DIR);
      expect(unitSetting(unit, 'KillSignal')).toBe('SIGTERM');
      expect(Number(unitSetting(unit, 'TimeoutStopSec')) * 1000).toBeGreaterThan(DRAIN_GRACE_MS);
      expect(unitSetting(unit, 'Restart')).toBe('on-failure');
      expect(unit.get('Service')?.get('EnvironmentFile')?.[0]).toBe(`${SYSTEMD_CONFIG_DIR}/medallion.env`);
    },
  );

  it('come with an example environment that leaves every secret blank', () => {
    const env = parseEnvFile(readFileSync(path.join(SYSTEMD, 'medallion.env'), 'utf8'));
    const secrets = Object.keys(env).filter((key) => /PASSWORD|SECRET|^MEDALLION_DB$/.test(key));
    expect(secrets.sort()).toEqual([
      'MEDALLION_ADMIN_PASSWORD',
      'MEDALLION_DB',
      'MEDALLION_S3_SECRET_KEY',
      'MEDALLION_SECRET_KEY',
    ]);
    for (const key of secrets) expect(env[key], key).toBe('');
  });
});

describe('the Dockerfile', () => {
  it('runs the entry point of the build, as an ES module, as a user other than root', () => {
    const stages = dockerStages();
    const last = finalStage();
    expect(last.base).toBe('node:20-bookworm-slim');
    const users = last.instructions.filter(({ keyword }) => keyword === 'USER').map(({ args }) => args);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    const [node, entry] = stageExecForm(last, 'ENTRYPOINT') ?? [];
    expect(node).toBe('node');
    // The entry point comes from a COPY of the build stage's output; that output is this checkout's build.
    const copy = stageCopies(last).copies.find(
      (candidate) => candidate.from && entry?.startsWith(`${candidate.destination}/`),
    );
    if (!copy || !entry) throw new Error(`no COPY --from=… puts ${entry} in the image`);
    const build = stages.find((stage) => stage.name === copy.from);
    if (!build) throw new Error(`no stage ${copy.from}`);
    expect(build.instructions).toContainEqual({ keyword: 'RUN', args: 'npm run build' });
    const built = path.posix.relative(stageCopies(build).workdir, copy.sources[0] ?? '');
    const local = path.join(built, path.posix.relative(copy.destination, entry));
    expect(local).toBe(path.relative(process.cwd(), MEDALLION_BIN));
    expect(existsSync(local)).toBe(true);
    // dist/ is ES modules because of the package.json above it ("type": "module").
    const packageJson = stageCopies(last).copies.find((candidate) =>
      candidate.sources.includes('package.json'),
    );
    expect(packageJson?.destination).toBe(`${path.posix.dirname(copy.destination)}/`);
  });

  it('builds from files the repository has and .dockerignore lets through', () => {
    const ignored = readFileSync('.dockerignore', 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    const fromContext = dockerStages().flatMap((stage) =>
      stageCopies(stage)
        .copies.filter((copy) => copy.from === undefined)
        .flatMap((copy) => copy.sources),
    );
    expect(fromContext).toContain('src');
    for (const source of fromContext) {
      expect(existsSync(source), source).toBe(true);
      expect(dockerIgnores(ignored, source), source).toBe(false);
    }
    expect(dockerIgnores(ignored, 'node_modules')).toBe(true);
    expect(dockerIgnores(ignored, 'dist/cli/main.js')).toBe(true);
  });
});
