import { access, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TableVacuumResult } from '../table/vacuum.js';
import { medallion } from '../testing/medallion-cli.js';

let dir: string;
let lake: string;

interface VacuumReport {
  dryRun: boolean;
  retainMs: number;
  tables: (TableVacuumResult & { table: string })[];
}

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-vacuum-'));
  const project = path.join(dir, 'shop');
  lake = path.join(dir, 'lake');
  expect((await medallion(['init', project])).code).toBe(0);
  const args = [
    'run',
    '--pipeline',
    `${project}/pipeline.mjs`,
    '--source',
    `${project}/source`,
    '--lake',
    lake,
  ];
  // Two runs: silver and gold are overwritten, so the first run's files are no longer current.
  for (let run = 0; run < 2; run++) {
    const { code } = await medallion([...args, '--db', `sqlite:${path.join(dir, 'metadata.db')}`, '--force']);
    expect(code).toBe(0);
  }
  await new Promise((resolve) => setTimeout(resolve, 1100));
});

describe('medallion vacuum', () => {
  it('lists every table of the lake with --dry-run --json and deletes nothing, then deletes what it listed', async () => {
    const kept = await medallion(['vacuum', '--lake', lake, '--dry-run', '--json']);
    expect(kept.code).toBe(0);
    const week = JSON.parse(kept.stdout) as VacuumReport;
    expect(week.retainMs).toBe(7 * 86_400_000);
    expect(week.tables.map((table) => table.table)).toEqual(
      expect.arrayContaining(['landing._manifest', 'bronze.orders', 'silver.orders', 'gold.daily_revenue']),
    );
    expect(week.tables.every((table) => table.deleted.length === 0 && table.kept > 0)).toBe(true);

    const short = ['vacuum', '--lake', lake, '--retain', '1s', '--force-short-retention', '--json'];
    const dry = await medallion([...short, '--dry-run']);
    expect(dry.code).toBe(0);
    const listed = (JSON.parse(dry.stdout) as VacuumReport).tables;
    const silver = listed.find((table) => table.table === 'silver.orders');
    expect(silver?.deleted.length).toBeGreaterThan(0);
    const files = listed.flatMap((table) => table.deleted.map((key) => path.join(lake, table.area, key)));
    for (const file of files) expect(await exists(file)).toBe(true);

    const real = await medallion(short);
    expect(real.code).toBe(0);
    expect((JSON.parse(real.stdout) as VacuumReport).tables).toEqual(listed);
    for (const file of files) expect(await exists(file)).toBe(false);
  });

  it('refuses a retention under an hour without --force-short-retention, naming the flag', async () => {
    const { code, stderr, stdout } = await medallion(['vacuum', '--lake', lake, '--retain', '10m']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('--force-short-retention');
  });
});
