import { access, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LakeArea } from '../table/lake-layout.js';
import type { RetentionReport } from '../runner/retention.js';
import type { RunSummary } from '../runner/run-summary.js';
import { medallion } from '../testing/medallion-cli.js';

interface RetentionOutput extends RetentionReport {
  lake: string;
  pipeline: string | null;
  deleted: { layer: LakeArea; keys: string[] }[];
}

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

let project: string;
const inProject = { cwd: '' };

/** The project file of `medallion init`, with the maintenance pipeline and `changes` added. */
async function configure(changes: Record<string, unknown>): Promise<void> {
  const file = path.join(project, 'medallion.config.json');
  const config = JSON.parse(await readFile(file, 'utf8')) as { pipelines: Record<string, unknown> };
  config.pipelines.data_quality_checks = {};
  await writeFile(file, JSON.stringify({ ...config, ...changes }, null, 2));
}

beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-retention-cli-'));
  project = path.join(dir, 'shop');
  inProject.cwd = project;
  expect((await medallion(['init', project])).code).toBe(0);
  await configure({
    retention: { landing: '1s', versions: '1s', leftovers: '1s', forceShortRetention: true },
  });
  // Twice, the second forced: silver and gold are overwritten, so the first run's files are no longer current.
  for (const args of [['run'], ['run', '--force']])
    expect((await medallion(args, {}, inProject)).code).toBe(0);
  await new Promise((resolve) => setTimeout(resolve, 1100));
});

describe('medallion retention', () => {
  it("lists with --dry-run what data_quality_checks' retention would delete per layer and deletes nothing, then deletes what it listed; the next run lands nothing again", async () => {
    const dry = await medallion(['retention', '--dry-run', '--json'], {}, inProject);
    expect(dry.code).toBe(0);
    const listed = JSON.parse(dry.stdout) as RetentionOutput;
    expect(listed).toMatchObject({ dryRun: true, pipeline: 'data_quality_checks' });
    expect(listed.policy).toEqual({ landing: '1s', versions: '1s', quarantine: '1s', leftovers: '1s' });
    const layer = (report: RetentionOutput, name: LakeArea) =>
      report.perLayer.find((entry) => entry.layer === name);
    expect(layer(listed, 'landing')?.landedCopies).toBe(1);
    expect(layer(listed, 'silver')?.dataFiles).toBeGreaterThan(0);
    expect(layer(listed, 'gold')?.dataFiles).toBeGreaterThan(0);
    const files = listed.deleted.flatMap(({ layer: area, keys }) =>
      keys.map((key) => path.join(listed.lake, area, key)),
    );
    expect(files).toHaveLength(listed.files);
    for (const file of files) expect(await exists(file)).toBe(true);

    const text = await medallion(['retention', '--dry-run'], {}, inProject);
    expect(text.stdout).toContain(`would delete ${listed.files} file(s)`);
    expect(text.stdout).toContain('retention: landing 1s, versions 1s, quarantine 1s, leftovers 1s;');

    const applied = await medallion(['retention', '--json'], {}, inProject);
    expect(applied.code).toBe(0);
    const done = JSON.parse(applied.stdout) as RetentionOutput;
    expect({ ...done, dryRun: true }).toEqual(listed);
    for (const file of files) expect(await exists(file)).toBe(false);

    const next = await medallion(['run', '--json'], {}, inProject);
    expect(next.code).toBe(0);
    const summary = JSON.parse(next.stdout) as RunSummary;
    expect(summary.ingest.landed).toEqual([]);
    expect(summary.ingest.skipped.map((file) => file.status)).toEqual(['expired']);
  });

  it('refuses a retention under an hour in the project file, naming the key and the way to force it', async () => {
    await configure({ retention: { versions: '10m' } });
    const { code, stderr, stdout } = await medallion(['retention', '--dry-run'], {}, inProject);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/retention\.versions: 10m is shorter than the 1h minimum retention/);
    expect(stderr).toContain('forceShortRetention: true');
  });
});
