import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { BUILT_INDEX_URL } from '../testing/scheduler-process.js';
import { Project } from './project.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'medallion-project-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A directory holding `files` (name → content, objects as JSON). */
async function tree(name: string, files: Record<string, unknown>): Promise<string> {
  const dir = path.join(root, name);
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

const open = (cwd: string, options: { config?: string; env?: NodeJS.ProcessEnv } = {}) =>
  Project.open({ cwd, env: options.env ?? {}, ...(options.config && { config: options.config }) });

async function refusal(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('the project file', () => {
  it('is found in the working directory or the nearest one above it; --config and MEDALLION_CONFIG name another', async () => {
    const dir = await tree('found', {
      'medallion.config.json': { lake: 'lake' },
      'deep/down/here.txt': '',
      'elsewhere/other.json': { lake: 'other-lake' },
    });
    expect((await open(path.join(dir, 'deep', 'down'))).file?.file).toBe(
      path.join(dir, 'medallion.config.json'),
    );
    const named = await open(dir, { config: 'elsewhere/other.json' });
    expect(named.file?.file).toBe(path.join(dir, 'elsewhere', 'other.json'));
    const fromEnv = await open(path.join(dir, 'deep'), {
      env: { MEDALLION_CONFIG: path.join(dir, 'elsewhere', 'other.json') },
    });
    expect(fromEnv.file?.dir).toBe(path.join(dir, 'elsewhere'));
    expect((await open(os.tmpdir())).file).toBeUndefined();
  });

  it("binds each pipeline to its locations: its own, else the file's, relative to the file; a flag overrides one of them", async () => {
    const dir = await tree('locations', {
      'medallion.config.json': {
        source: 'in',
        lake: 'lake',
        pipelines: {
          medallion_data_pipeline: { source: 's3://minio@raw/decp' },
          data_quality_checks: { lake: '../shared-lake' },
        },
      },
    });
    const project = await open(path.join(dir));
    const [example, checks] = await project.pipelines();
    expect(project.locations(example!)).toEqual({
      source: 's3://minio@raw/decp',
      lake: path.join(dir, 'lake'),
    });
    // A pipeline without sources reads none.
    expect(project.locations(checks!)).toEqual({ source: null, lake: path.join(root, 'shared-lake') });
    const work = path.join(dir, 'sub');
    await mkdir(work);
    const fromSub = await open(work);
    expect(fromSub.locations(example!, { lake: 'here' })).toEqual({
      source: 's3://minio@raw/decp',
      lake: path.join(work, 'here'),
    });
  });

  it("binds a pipeline's silver and gold tables to an engine: --engine, its own, the file's; Spark needs a server", async () => {
    const spark = { remote: 'sc://spark-host:15002' };
    const dir = await tree('engines', {
      'medallion.config.json': {
        lake: 'lake',
        engine: { spark: { remote: 'sc://shared:15002' }, default: 'duckdb' },
        pipelines: { medallion_data_pipeline: { engine: { spark } }, data_quality_checks: {} },
      },
    });
    const project = await open(dir);
    const [example, checks] = await project.pipelines();
    expect(project.locations(example!)?.engine).toEqual({ kind: 'spark', spark });
    expect(project.locations(example!, { engine: 'duckdb' })?.engine).toEqual({ kind: 'duckdb', spark });
    // The file's server and default for a pipeline that names none.
    expect(project.locations(checks!)?.engine).toEqual({
      kind: 'duckdb',
      spark: { remote: 'sc://shared:15002' },
    });
    expect(project.locations(checks!, { engine: 'spark' })?.engine?.kind).toBe('spark');

    const bare = await open(
      await tree('no-spark', { 'medallion.config.json': { lake: 'lake', source: 'in' } }),
    );
    const [shipped] = await bare.pipelines();
    expect(bare.locations(shipped!)?.engine).toBeUndefined();
    const refused = await refusal(
      Promise.resolve().then(() => bare.requireLocations(shipped!, { engine: 'spark' })),
    );
    expect(refused.message).toMatch(/no Spark Connect server/);
    expect(refused.context?.field).toBe('--engine');
    const fromEnv = await open(path.join(root, 'no-spark'), {
      env: { MEDALLION_SPARK_REMOTE: 'sc://env:15002' },
    });
    expect(fromEnv.requireLocations(shipped!, { engine: 'spark' }).engine).toEqual({
      kind: 'spark',
      spark: { remote: 'sc://env:15002' },
    });
  });

  it('refuses a token in a Spark address, which every run would record: it belongs in MEDALLION_SPARK_TOKEN', async () => {
    const inFile = await tree('spark-token', {
      'medallion.config.json': { lake: 'lake', engine: { spark: { remote: 'sc://h:15002/;token=s3cret' } } },
    });
    expect((await refusal(open(inFile))).message).toMatch(/engine\.spark\.remote.*MEDALLION_SPARK_TOKEN/s);
    const inEnv = await open(await tree('spark-token-env', { 'medallion.config.json': { lake: 'lake' } }), {
      env: { MEDALLION_SPARK_REMOTE: 'sc://h:15002/;token=s3cret' },
    });
    const [shipped] = await inEnv.pipelines();
    const refused = await refusal(Promise.resolve().then(() => inEnv.locations(shipped!)));
    expect(refused.context?.field).toBe('MEDALLION_SPARK_REMOTE');
    expect(refused.message).not.toContain('s3cret');
  });

  it("records with a pipeline's runs its retention: its entry's, key by key over the file's; a short or bad duration is refused naming the key", async () => {
    const dir = await tree('retention', {
      'medallion.config.json': {
        lake: 'lake',
        retention: { landing: '30d', versions: '14d' },
        pipelines: {
          data_quality_checks: { retention: { versions: '30m', forceShortRetention: true } },
          medallion_data_pipeline: {},
        },
      },
    });
    const project = await open(dir);
    const [checks, data] = await project.pipelines(['data_quality_checks', 'medallion_data_pipeline']);
    expect(project.locations(checks!)?.retention).toEqual({
      landing: '30d',
      versions: '30m',
      forceShortRetention: true,
    });
    expect(project.locations(data!)?.retention).toEqual({ landing: '30d', versions: '14d' });
    expect(
      (await open(await tree('no-retention', { 'medallion.config.json': { lake: 'lake' } }))).retention(),
    ).toBe(undefined);

    const refused = async (retention: unknown) =>
      refusal(
        open(
          await tree(`retention-${JSON.stringify(retention).replace(/\W/g, '')}`, {
            'medallion.config.json': { lake: 'lake', pipelines: { data_quality_checks: { retention } } },
          }),
        ),
      );
    const short = await refused({ landing: '30d', versions: '10m' });
    expect(short.context?.field).toBe('pipelines.data_quality_checks.retention.versions');
    expect(short.message).toMatch(/10m is shorter than the 1h minimum retention.*forceShortRetention: true/s);
    const bad = await refused({ quarantine: '2 weeks' });
    expect(bad.context?.field).toBe('pipelines.data_quality_checks.retention.quarantine');
    expect(bad.message).toMatch(/a duration: a whole number and a unit/);
    expect((await refused({ landing: '30d', tables: '7d' })).message).toMatch(/unknown key tables/);
  });

  it('keeps runs in its database: --db, then MEDALLION_DB, then the file (relative to it), then .medallion beside it', async () => {
    const withDb = await tree('database', { 'medallion.config.json': { database: 'sqlite:state/m.db' } });
    const project = await open(withDb);
    expect(project.databaseUrl(undefined)).toBe(`sqlite:${path.join(withDb, 'state', 'm.db')}`);
    expect(project.databaseUrl('postgres://h/db')).toBe('postgres://h/db');
    expect((await open(withDb, { env: { MEDALLION_DB: 'sqlite:/x.db' } })).databaseUrl(undefined)).toBe(
      'sqlite:/x.db',
    );
    const bare = await tree('database-default', { 'medallion.config.json': {} });
    expect((await open(bare)).databaseUrl(undefined, '/some/lake')).toBe(
      `sqlite:${path.join(bare, '.medallion', 'metadata.db')}`,
    );
  });

  it("without a project file, keeps each lake's runs beside it, and says what to give when there is no lake", async () => {
    const none = await open(os.tmpdir());
    expect(none.databaseUrl(undefined, '/data/lake')).toBe('sqlite:/data/lake/_medallion/metadata.db');
    expect(none.databaseUrl(undefined, 's3://minio@acme-{layer}')).toMatch(
      /^sqlite:.*\/medallion\/lake-[0-9a-f]{16}\.db$/,
    );
    const error = await refusal(Promise.resolve().then(() => none.databaseUrl(undefined)));
    expect(error.describe()).toContain('--db');
    expect(error.hint).toContain('medallion init');
    const [example] = await none.pipelines();
    expect(none.locations(example!)).toBeUndefined();
    expect(() => none.requireLocations(example!)).toThrow(/pipeline medallion_data_pipeline has no lake/);
  });

  it('refuses an unknown key or a bad value, naming the key and the file', async () => {
    const unknown = await tree('unknown-key', { 'medallion.config.json': { lake: 'lake', lakes: 'typo' } });
    const error = await refusal(open(unknown));
    expect(error.message).toBe('unknown key lakes');
    expect(error.context.file).toBe(path.join(unknown, 'medallion.config.json'));
    const bad = await tree('bad-value', { 'medallion.config.json': { engine: { memoryLimit: 'lots' } } });
    expect((await refusal(open(bad))).describe()).toMatch(/engine\.memoryLimit: a size such as 512MB or 2GB/);
    const broken = await tree('bad-json', { 'medallion.config.json': '{ "lake": ' });
    expect((await refusal(open(broken))).message).toMatch(/is not valid JSON/);
    const nested = await tree('unknown-nested', {
      'medallion.config.json': { pipelines: { medallion_data_pipeline: { lakee: 'x' } } },
    });
    expect((await refusal(open(nested))).message).toBe(
      'unknown key lakee in pipelines.medallion_data_pipeline',
    );
  });

  it('reads a .mjs project file, loads pipeline modules and refuses one named otherwise or an unknown shipped one', async () => {
    const module = `import { definePipeline } from ${JSON.stringify(BUILT_INDEX_URL)};
export default definePipeline({ name: 'jobs', sources: [], tables: [], tasks: [{ name: 'work', run: async () => {} }] });`;
    const dir = await tree('modules', {
      'jobs.mjs': module,
      'medallion.config.mjs': `export default { lake: 'lake', pipelines: { jobs: { module: 'jobs.mjs' } }, engine: { threads: 2, scratchDir: 'scratch' } };`,
    });
    const project = await open(dir);
    expect((await project.pipelines()).map((pipeline) => pipeline.name)).toEqual(['jobs']);
    expect(project.engine({ memoryLimit: '1GB' })).toEqual({
      memoryLimit: '1GB',
      threads: 2,
      scratchDir: path.join(dir, 'scratch'),
    });
    const misnamed = await tree('misnamed', {
      'jobs.mjs': module,
      'medallion.config.json': { pipelines: { chores: { module: 'jobs.mjs' } } },
    });
    expect((await refusal((await open(misnamed)).pipelines())).message).toBe(
      'pipelines.chores: the module defines pipeline jobs, not chores',
    );
    const unknownShipped = await tree('unknown-shipped', {
      'medallion.config.json': { pipelines: { nope: {} } },
    });
    expect((await refusal((await open(unknownShipped)).pipelines())).message).toBe(
      'no shipped pipeline is named nope',
    );
    expect((await refusal(project.pipeline('other'))).message).toBe('no pipeline named other');
  });
});
