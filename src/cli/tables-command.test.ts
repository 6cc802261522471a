/**
 * `medallion tables` as a user runs it (the built command) on the shipped example pipeline: a run, a second run
 * with new contracts, then a gold table rolled back one version — `tables show` gives the previous rows, the
 * tables that read it are stale, and the next run keeps it and rebuilds them.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestoreResult } from '../app/table-restore.js';
import type { VersionDiff } from '../app/table-diff.js';
import type { RowsPage } from '../app/table-rows.js';
import type { TableDetail, TableListing, VersionEntry } from '../app/tables.js';
import { CONTRACTS_FILE, generateDemoData } from '../demo-data/generate.js';
import type { RunSummary } from '../runner/run-summary.js';
import { medallion } from '../testing/medallion-cli.js';

const GOLD = 'gold.active_companies_with_contracts_2022';
const READERS = [
  'gold.summary_by_sector',
  'gold.summary_by_region',
  'gold.summary_by_company_size',
  'gold.top_100_companies',
];

let dir: string;
let lake: string;
let db: string;

async function run(): Promise<RunSummary> {
  const { code, stdout, stderr } = await medallion([
    'run',
    '--source',
    path.join(dir, 'source'),
    '--lake',
    lake,
    '--db',
    db,
    '--json',
  ]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as RunSummary;
}

/** `medallion tables ARGS --lake LAKE --json`, which must succeed: its JSON. */
async function tables<T>(...args: string[]): Promise<T> {
  const { code, stdout, stderr } = await medallion(['tables', ...args, '--lake', lake, '--json']);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as T;
}

/** `medallion tables ARGS --lake LAKE`, which must fail: its exit code and message. */
async function refused(...args: string[]): Promise<{ code: number; stderr: string }> {
  const { code, stdout, stderr } = await medallion(['tables', ...args, '--lake', lake]);
  expect(stdout).toBe('');
  return { code, stderr };
}

const show = (table: string, ...args: string[]) =>
  tables<{ table: TableDetail; rows: RowsPage }>('show', table, '--limit', '500', ...args);
const sorted = (rows: readonly unknown[]) => rows.map((row) => JSON.stringify(row)).sort();
const statuses = (summary: RunSummary) =>
  Object.fromEntries(summary.tasks.map((task) => [task.id, task.status]));

/** The same contracts under new ids: every company in gold has twice the contracts. */
async function republishContracts(): Promise<void> {
  const file = path.join(dir, 'source', CONTRACTS_FILE);
  const document = JSON.parse(await readFile(file, 'utf8')) as { marches: Record<string, unknown>[] };
  const again = document.marches.map((contract) => ({
    ...contract,
    id: `${String(contract.id)}-bis`,
    ...(contract.uid !== undefined && { uid: `${String(contract.uid)}-bis` }),
  }));
  await writeFile(file.replace(/\.json$/, '-bis.json'), JSON.stringify({ marches: again }));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-tables-'));
  lake = path.join(dir, 'lake');
  db = `sqlite:${path.join(dir, 'metadata.db')}`;
  await generateDemoData({ scale: 0.02, seed: 7, outDir: path.join(dir, 'source') });
  await run();
  await republishContracts();
  expect(statuses(await run())[GOLD]).toBe('success');
}, 300_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('medallion tables', () => {
  it('rolls a gold table back one version: `tables show` gives the previous rows; the next run keeps it and rebuilds what reads it', async () => {
    const previous = await show(GOLD, '--version', '0');
    const current = await show(GOLD);
    expect(current.table.version).toBe(1);
    expect(sorted(current.rows.rows)).not.toEqual(sorted(previous.rows.rows));
    const topBefore = await show('gold.top_100_companies', '--version', '0');

    const restored = await tables<RestoreResult>('restore', GOLD, '--version', '0');
    expect(restored).toMatchObject({ restoredVersion: 0, version: 2, staleReaders: READERS });
    const shown = await show(GOLD);
    expect(shown.table).toMatchObject({ version: 2, operation: 'RESTORE', rows: previous.table.rows });
    expect(sorted(shown.rows.rows)).toEqual(sorted(previous.rows.rows));

    const listed = await tables<TableListing>();
    const stale = listed.tables.filter((table) => table.staleInputs.length > 0);
    expect(stale.map((table) => `${table.layer}.${table.table}`).sort()).toEqual([...READERS].sort());
    expect(stale.every((table) => table.staleInputs.join() === GOLD)).toBe(true);
    const text = await medallion(['tables', '--lake', lake]);
    expect(text.stdout).toMatch(new RegExp(`summary_by_sector .*stale: ${GOLD} newer`));

    const next = statuses(await run());
    expect(next[GOLD]).toBe('skipped');
    expect(next['silver.marches_publics']).toBe('skipped');
    for (const reader of READERS) expect(next[reader], reader).toBe('success');
    expect((await show(GOLD)).table.version).toBe(2);
    expect((await tables<TableListing>()).tables.filter((table) => table.staleInputs.length > 0)).toEqual([]);
    // What reads the restored table was rebuilt from it: the same rows as when it was that version.
    expect(sorted((await show('gold.top_100_companies')).rows.rows)).toEqual(sorted(topBefore.rows.rows));
  }, 300_000);

  it('tells the history with the restore in it, a version as of a time, and the rows two versions differ by', async () => {
    const { versions } = await tables<{ versions: VersionEntry[] }>('history', GOLD);
    expect(versions.map((entry) => [entry.version, entry.operation, entry.restoredVersion])).toEqual([
      [2, 'RESTORE', 0],
      [1, 'WRITE', null],
      [0, 'WRITE', null],
    ]);
    const asOf = (await show(GOLD, '--as-of', versions[1]!.committedAt)).table;
    expect(asOf.version).toBe(1);
    const diff = await tables<VersionDiff>('diff', GOLD, '--from', '0', '--to', '1');
    expect(diff.added.rows).toBeGreaterThan(0);
    expect(diff.removed.rows).toBe(diff.added.rows);
    expect(diff.added.sample.every((row) => (row.nombre_contrats as number) >= 2)).toBe(true);
    const back = await tables<VersionDiff>('diff', GOLD, '--from', '0', '--to', '2');
    expect([back.added.rows, back.removed.rows]).toEqual([0, 0]);
  }, 120_000);

  it('names the table, version or flag at fault, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['show', 'gold.no_such_table'], /no table gold\.no_such_table/],
      [['show', 'top_100_companies'], /"top_100_companies" does not name a table: write it layer\.table/],
      [['show', GOLD, '--version', '9'], /has no version 9\n {2}hint: its versions: 0 to 2/],
      [['show', GOLD, '--as-of', '2000-01-01'], /has no version as of 2000-01-01T00:00:00\.000Z/],
      [['show', GOLD, '--version', '1', '--as-of', '2000-01-01'], /cannot be used with option '--version/],
      [['show', GOLD, '--as-of', 'yesterday'], /expected a date as YYYY-MM-DD or an instant/],
      [['diff', GOLD, '--from', '0'], /required option '--to <n>' not specified/],
      [['restore', GOLD, '--version', '2'], /is at version 2 already/],
      [['restore', 'quarantine.silver_codes_naf', '--version', '0'], /only bronze, silver, gold tables can/],
      [['restore', GOLD, '--version', '-1'], /expected a table version/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await refused(...args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toMatch(message);
    }
  }, 120_000);
});
