import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../runner/run-summary.js';
import { medallion } from '../testing/medallion-cli.js';
import { freshBucketName, s3EnvFor, s3ServerOrSkip } from '../testing/minio.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** `medallion run ARGS` with the runs kept in the test's directory, not in the working directory's default. */
const run = (args: string[], env?: NodeJS.ProcessEnv) =>
  medallion(['run', ...args, '--db', `sqlite:${path.join(dir, 'metadata.db')}`], env);

describe('the medallion command', () => {
  it('scaffolds a project with `init` that runs from its directory without a flag, nothing procurement-specific in it', async () => {
    const project = path.join(dir, 'shop');
    expect((await medallion(['init', project])).code).toBe(0);
    const { code, stdout, stderr } = await medallion(['run', '--json'], {}, { cwd: project });
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout) as RunSummary;
    expect(summary.pipeline).toBe('shop_orders');
    const orders = summary.tables.find((table) => table.layer === 'silver' && table.table === 'orders');
    expect(orders?.accounting).toEqual({
      rowsIn: 6,
      recordsOut: 3,
      deduplicated: 1,
      quarantined: 2,
      quarantineReasons: { bad_amount: 1, bad_date: 1 },
    });
    expect(summary.headline).toEqual({ days: 2, orders: 3, revenue: 256.49 });
    expect(summary.lake).toBe(path.join(project, 'lake'));
    // The project file is found from below it too, and the history is the project's.
    const runs = await medallion(['runs', '--json'], {}, { cwd: path.join(project, 'source') });
    expect((JSON.parse(runs.stdout) as { id: string }[]).map((entry) => entry.id)).toEqual([summary.runId]);
    expect(existsSync(path.join(project, '.medallion', 'metadata.db'))).toBe(true);
  });

  it('says a usage error in one line and where to read more, exit 2', async () => {
    const { code, stdout, stderr } = await medallion(['runs', '--colour', 'red']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe("medallion: unknown option '--colour'\nsee medallion runs --help\n");
    const missing = await medallion(['connections', 'add', 'x']);
    expect(missing.stderr).toMatch(
      /^medallion: required option .* not specified\nsee medallion connections add --help\n$/,
    );
  });

  it('refuses to scaffold into a directory that is not empty', async () => {
    const { code, stderr } = await medallion(['init', dir]);
    expect(code).toBe(2);
    expect(stderr).toContain('is not empty');
  });

  it('prints nothing but the JSON summary on stdout with --json, progress on stderr; `quality` shows the expectations', async () => {
    const db = `sqlite:${path.join(dir, 'demo.db')}`;
    const source = path.join(dir, 'demo-source');
    expect((await medallion(['demo-data', '--scale', '0.05', '--seed', '3', '--out', source])).code).toBe(0);
    expect((await readdir(source)).sort()).toEqual([
      'aws-marchespublics-annee-2022.json',
      'int_courts_naf_rev_2.csv',
      'simulated_etablissements_50000.csv',
    ]);
    const { code, stdout, stderr } = await medallion([
      'run',
      '--source',
      source,
      '--lake',
      path.join(dir, 'demo-lake'),
      '--db',
      db,
      '--json',
    ]);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as RunSummary;
    expect(summary.status).toBe('success');
    expect(summary.headline?.companies).toBeGreaterThan(0);
    expect(stderr).toContain('✔ gold.top_100_companies');

    const quality = await medallion(['quality', '--db', db, '--json']);
    expect(quality.code).toBe(0);
    const { expectations } = JSON.parse(quality.stdout) as {
      expectations: { task: string; name: string; passed: boolean }[];
    };
    expect(expectations).toContainEqual(
      expect.objectContaining({ task: 'gold.top_100_companies', name: 'at_most_100_rows', passed: true }),
    );
    expect((await medallion(['quality', '--db', db])).stdout).toMatch(
      /silver\.etablissements +siret_unique +unique +fail +passed/,
    );
  });

  it('exits 2 with the flag named when the source directory does not exist', async () => {
    const { code, stderr } = await run([
      '--source',
      path.join(dir, 'missing'),
      '--lake',
      path.join(dir, 'l'),
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/missing is not a directory[\s\S]*--source/);
  });

  it('exits 2 on an unknown flag and 1 when the run fails', async () => {
    expect((await medallion(['run', '--nope'])).code).toBe(2);
    const empty = await mkdtemp(path.join(dir, 'empty-'));
    const { code, stdout } = await run(['--source', empty, '--lake', path.join(dir, 'empty-lake')]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/FAILED[\s\S]*does not exist yet/);
  });
});

const s3 = s3ServerOrSkip('the medallion command on S3');

describe.skipIf(!s3)('the medallion command pointed at S3', () => {
  const env = () => s3EnvFor(s3!, path.join(dir, 's3-cache'));

  it('says once, at start, that the credentials are wrong', async () => {
    const { code, stderr } = await run(
      ['--source', 's3://nowhere-at-all/x', '--lake', path.join(dir, 'l1')],
      {
        ...env(),
        MEDALLION_S3_SECRET_KEY: 'not-the-secret',
      },
    );
    expect(code).toBe(2);
    expect(stderr).toContain(s3!.endpoint);
    expect(stderr).toMatch(/credential|access|signature/i);
  });

  it('names the bucket when the source bucket does not exist', async () => {
    const bucket = freshBucketName('missing');
    const { code, stderr } = await run(
      ['--source', `s3://${bucket}/in`, '--lake', path.join(dir, 'l2')],
      env(),
    );
    expect(code).toBe(2);
    expect(stderr).toContain(bucket);
  });

  it('names the endpoint when nothing answers there', async () => {
    const { code, stderr } = await run(['--source', 's3://some-bucket/in', '--lake', path.join(dir, 'l3')], {
      ...env(),
      MEDALLION_S3_ENDPOINT: 'http://127.0.0.1:1',
    });
    expect(code).toBe(2);
    expect(stderr).toContain('127.0.0.1:1');
  });
});
