/**
 * The recovery procedure of the README, followed with the built command on a project of its own: the example
 * pipeline runs, `medallion backup` copies the metadata database and the lake, then the database and the silver
 * layer are lost; `medallion restore` brings runs, tasks, tries and table versions back, and the next run skips
 * the work it had done. On SQLite with a local lake, and on PostgreSQL with the lake on MinIO (reached through a
 * named connection that only the restored database knows).
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../backup/manifest.js';
import { generateDemoData } from '../demo-data/generate.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import pipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import { openLake, storeSettings } from '../project/locations.js';
import type { RunSummary } from '../runner/run-summary.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { sha256File } from '../storage/sha256.js';
import { LakeLayout, localLake, type LakeStores } from '../table/lake-layout.js';
import { medallion } from '../testing/medallion-cli.js';
import { freshBucketName, s3EnvFor, s3ServerOrSkip } from '../testing/minio.js';
import { postgresOrSkip, TestSchemas } from '../testing/postgres.js';

interface BackupReport {
  id: string;
  metadata: { kind: string; migration: number; tables: number; rows: number; copied: { objects: number } };
  lakes: { location: string; files: number; copied: { objects: number; bytes: number } }[];
}

/** A project on its own: where it is, how the command reaches it, and how to lose what a disaster takes. */
interface Project {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** The metadata database, as openMetadataStore takes it. */
  db: string;
  backupTo: string;
  lake(): Promise<LakeStores>;
  loseDatabase(): Promise<void>;
}

const TABLE_TASKS = [
  ...pipeline.sources.map((source) => `bronze.${source.bronzeTable}`),
  ...pipeline.tables.map((table) => `${table.layer}.${table.name}`),
].sort();

async function cli(project: Pick<Project, 'dir' | 'env'>, args: string[]): Promise<string> {
  const result = await medallion(args, project.env, { cwd: project.dir });
  expect(result.code, `medallion ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

async function run(project: Project): Promise<RunSummary> {
  return JSON.parse(await cli(project, ['run', '--json'])) as RunSummary;
}

async function withStore<T>(db: string, read: (store: MetadataStore) => Promise<T>): Promise<T> {
  const store = await openMetadataStore(db);
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

/** Every run, with its tasks, its tries and the log of each try. */
async function history(db: string) {
  return withStore(db, async (store) => {
    const runs = await store.listRuns();
    return Promise.all(
      runs.map(async (run) => {
        const tries = await store.listAttempts(run.id);
        const logs = await Promise.all(
          tries.map(async (attempt) => (await store.readLog(run.id, attempt.taskId, attempt.attempt)).lines),
        );
        return { run, tasks: await store.listTaskInstances(run.id), tries, logs };
      }),
    );
  });
}

/** The readable versions of every table of the lake, the landing manifest included. */
async function tableVersions(lake: LakeStores): Promise<Record<string, number[]>> {
  const layout = new LakeLayout(lake);
  const versions: Record<string, number[]> = { 'landing._manifest': await layout.manifest().versions() };
  for (const area of ['bronze', 'silver', 'gold', 'quarantine'] as const) {
    for (const table of await layout.tablesIn(area))
      versions[`${area}.${table.root}`] = await table.versions();
  }
  return versions;
}

async function loseSilver(lake: LakeStores): Promise<void> {
  const silver = lake.store('silver');
  await silver.delete((await silver.list('')).map((object) => object.key));
}

/**
 * The procedure: back up, lose the database and the silver layer, restore; the history and every table version
 * are back, a restore into the database it brought back is refused (but with --force), and the next run skips its
 * table tasks.
 */
async function loseAndRestore(project: Project): Promise<BackupReport> {
  const backup = JSON.parse(
    await cli(project, ['backup', '--to', project.backupTo, '--json']),
  ) as BackupReport;
  const before = { history: await history(project.db), versions: await tableVersions(await project.lake()) };
  expect(before.history.length).toBe(1);
  expect(before.versions['silver.marches_publics']).toEqual([0]);

  await project.loseDatabase();
  await loseSilver(await project.lake());
  expect((await tableVersions(await project.lake()))['silver.marches_publics'] ?? []).toEqual([]);

  const restored = await medallion(['restore', '--from', project.backupTo], project.env, {
    cwd: project.dir,
  });
  expect(restored.code, restored.stderr).toBe(0);
  expect(restored.stdout).toContain(`restored backup ${backup.id}`);
  expect(restored.stderr).toMatch(/files checked/);
  expect(await history(project.db)).toEqual(before.history);
  expect(await tableVersions(await project.lake())).toEqual(before.versions);

  const again = await medallion(['restore', '--from', project.backupTo], project.env, { cwd: project.dir });
  expect(again.code).toBe(2);
  expect(again.stderr).toMatch(/the metadata database is not empty: medallion_pipelines holds 1 row/);
  expect(again.stderr).toContain('--force');
  const forced = await medallion(['restore', '--from', project.backupTo, '--force'], project.env, {
    cwd: project.dir,
  });
  expect(forced.code, forced.stderr).toBe(0);
  expect(await history(project.db)).toEqual(before.history);

  const next = await run(project);
  expect(next.status).toBe('success');
  const skipped = next.tasks.filter((task) => task.status === 'skipped').map((task) => task.id);
  expect(skipped.sort()).toEqual(TABLE_TASKS);
  return backup;
}

describe('backup and restore on SQLite with a local lake', () => {
  let project: Project;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-backup-'));
    await generateDemoData({ scale: 0.02, seed: 5, outDir: path.join(dir, 'source') });
    await writeFile(
      path.join(dir, 'medallion.config.json'),
      JSON.stringify({ database: 'sqlite:state/metadata.db', source: 'source', lake: 'lake' }),
    );
    project = {
      dir,
      env: {},
      db: `sqlite:${path.join(dir, 'state', 'metadata.db')}`,
      backupTo: path.join(dir, 'backups'),
      lake: async () => localLake(path.join(dir, 'lake')),
      loseDatabase: () => rm(path.join(dir, 'state'), { recursive: true }),
    };
    expect((await run(project)).status).toBe('success');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('brings back runs, tasks, tries and table versions after the database and the silver layer are lost, and the next run skips unchanged work', async () => {
    const backup = await loseAndRestore(project);
    expect(backup.metadata).toMatchObject({ kind: 'sqlite' });
    expect(backup.lakes).toEqual([
      expect.objectContaining({ location: path.join(dir, 'lake'), copied: expect.anything() }),
    ]);
    expect(backup.lakes[0]?.copied.objects).toBe(backup.lakes[0]?.files);
  });

  it('copies, in the next backup, only the files the backup location does not hold yet', async () => {
    // One more run, on a new contracts file.
    const more = path.join(dir, 'more');
    await generateDemoData({ scale: 0.02, seed: 6, outDir: more });
    await copyFile(
      path.join(more, 'aws-marchespublics-annee-2022.json'),
      path.join(dir, 'source', 'aws-marchespublics-annee-2023.json'),
    );
    expect((await run(project)).status).toBe('success');

    const held = new Set(
      (await new LocalDiskStore(path.join(dir, 'backups')).list('objects/')).map((o) => path.basename(o.key)),
    );
    const lake = new LocalDiskStore(path.join(dir, 'lake'));
    const inLake = await Promise.all(
      (await lake.list('')).map((object) => sha256File(path.join(lake.location, object.key))),
    );
    const expected = new Set(inLake.filter((sha256) => !held.has(sha256))).size;
    expect(expected).toBeGreaterThan(0);

    const backup = JSON.parse(
      await cli(project, ['backup', '--to', project.backupTo, '--json']),
    ) as BackupReport;
    expect(backup.lakes[0]?.files).toBe(inLake.length);
    expect(backup.lakes[0]?.copied.objects).toBe(expected);
    expect(expected).toBeLessThan(inLake.length);
    const objects = await readdir(path.join(dir, 'backups', 'objects'), { recursive: true });
    expect(objects.filter((entry) => /^[0-9a-f]{2}\/[0-9a-f]{64}$/.test(entry)).length).toBe(
      held.size + expected + backup.metadata.copied.objects,
    );

    const listed = await cli(project, ['restore', '--from', project.backupTo, '--list']);
    expect(listed.trim().split('\n')).toHaveLength(3);
  });

  it('refuses a backup location inside the lake', async () => {
    const inside = path.join(dir, 'lake', 'backups');
    const refused = await medallion(['backup', '--to', inside], {}, { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`--to: ${inside} is inside the lake ${path.join(dir, 'lake')}`);
  });

  it('refuses a damaged backup file before restoring anything, naming the file and what it holds', async () => {
    const { lakes } = JSON.parse(
      await cli(project, ['restore', '--from', project.backupTo, '--check', '--json']),
    ) as BackupReport;
    expect(lakes[0]?.files).toBeGreaterThan(0);
    const manifest = await readManifest(new LocalDiskStore(path.join(dir, 'backups')));
    const victim = manifest.lakes[0]?.objects.find(
      (object) => object.area === 'gold' && object.key.endsWith('.parquet'),
    );
    expect(victim).toBeDefined();
    const file = path.join(dir, 'backups', 'objects', victim!.sha256.slice(0, 2), victim!.sha256);
    await writeFile(file, 'not the bytes the lake had');

    const into = `sqlite:${path.join(dir, 'elsewhere.db')}`;
    const refused = await medallion(['restore', '--from', project.backupTo, '--db', into], {}, { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${file}: the backup file holding gold/${victim!.key} of the lake`);
    expect(refused.stderr).toMatch(/is damaged: its SHA-256 is [0-9a-f]{64}, the manifest says/);
    expect(await history(into)).toEqual([]);
  });
});

describe('backup and restore without a project file, the database in the lake', () => {
  it('keeps the database out of the lake copy, and brings the whole lake and its history back from nothing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-backup-bare-'));
    try {
      const shop = path.join(dir, 'shop');
      expect((await medallion(['init', shop])).code).toBe(0);
      const work = path.join(dir, 'work');
      const lake = path.join(work, 'lake');
      await mkdir(work);
      const [module, source] = [path.join(shop, 'pipeline.mjs'), path.join(shop, 'source')];
      const flags = ['--pipeline', module, '--source', source, '--lake', lake];
      const project = { dir: work, env: {}, db: `sqlite:${path.join(lake, '_medallion', 'metadata.db')}` };
      const backupTo = path.join(dir, 'backups');
      expect((JSON.parse(await cli(project, ['run', ...flags, '--json'])) as RunSummary).status).toBe(
        'success',
      );
      const backup = JSON.parse(
        await cli(project, ['backup', '--lake', lake, '--to', backupTo, '--json']),
      ) as BackupReport;
      const manifest = await readManifest(new LocalDiskStore(backupTo), backup.id);
      const system = manifest.lakes[0]?.objects
        .filter((object) => object.area === 'system')
        .map((object) => object.key);
      expect(system).toEqual([expect.stringMatching(/^runs\/run_.*\.json$/)]);
      const before = { history: await history(project.db), versions: await tableVersions(localLake(lake)) };

      await rm(lake, { recursive: true });
      await cli(project, ['restore', '--from', backupTo, '--lake', lake]);
      expect(await history(project.db)).toEqual(before.history);
      expect(await tableVersions(localLake(lake))).toEqual(before.versions);
      const next = JSON.parse(await cli(project, ['run', ...flags, '--json'])) as RunSummary;
      const tableTasks = next.tasks.filter((task) => /^(bronze|silver|gold)\./.test(task.id));
      expect(tableTasks.length).toBeGreaterThan(0);
      expect(tableTasks.filter((task) => task.status !== 'skipped')).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const postgres = postgresOrSkip('backup and restore on PostgreSQL');
const s3 = s3ServerOrSkip('backup and restore with the lake on MinIO');

describe.runIf(postgres !== undefined && s3 !== undefined)(
  'backup and restore on PostgreSQL with the lake on MinIO',
  () => {
    const schemas = new TestSchemas(postgres);
    let dir: string;

    afterAll(async () => {
      await schemas.dropAll();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('brings back runs, tasks, tries and table versions after the database and the silver layer are lost, and the next run skips unchanged work', async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-backup-pg-'));
      await generateDemoData({ scale: 0.02, seed: 5, outDir: path.join(dir, 'source') });
      const schema = schemas.name('backup');
      const db = schemas.url(schema);
      const bucket = freshBucketName('backup-lake');
      // The lake through a named connection, which only the metadata database knows; the backup location through
      // the environment, which a restore into an empty database needs.
      const env = {
        ...s3EnvFor(s3!, path.join(dir, 'cache')),
        MEDALLION_SECRET_KEY: randomBytes(32).toString('base64'),
        TEST_S3_SECRET: s3!.secretAccessKey,
      };
      await writeFile(
        path.join(dir, 'medallion.config.json'),
        JSON.stringify({ database: db, source: 'source', lake: `s3://minio@${bucket}/lake` }),
      );
      const lakeSettings = storeSettings(env);
      const project: Project = {
        dir,
        env,
        db,
        backupTo: `s3://${freshBucketName('backups')}/medallion`,
        lake: () => openLake(`s3://${bucket}/lake`, lakeSettings),
        loseDatabase: async () => {
          const client = new pg.Client({ connectionString: postgres });
          await client.connect();
          try {
            await client.query(`drop schema "${schema}" cascade`);
          } finally {
            await client.end();
          }
        },
      };
      await cli(project, [
        'connections',
        'add',
        'minio',
        '--endpoint',
        s3!.endpoint,
        '--region',
        s3!.region,
        '--access-key-id',
        s3!.accessKeyId,
        '--secret-from-env',
        'TEST_S3_SECRET',
      ]);
      expect((await run(project)).status).toBe('success');

      const backup = await loseAndRestore(project);
      expect(backup.metadata).toMatchObject({ kind: 'postgres' });
      expect(backup.lakes.map((lake) => lake.location)).toEqual([`s3://minio@${bucket}/lake`]);
      expect(
        await withStore(db, async (store) => (await store.getConnection('minio'))?.config),
      ).toMatchObject({
        endpoint: s3!.endpoint,
      });
    });
  },
);
