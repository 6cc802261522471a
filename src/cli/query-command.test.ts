/** `medallion query` as a user runs it (the built command), over the example pipeline's lake on disk. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotRows } from '../table/delta-table.js';
import { LakeLayout, localLake } from '../table/lake-layout.js';
import { exampleLake, filesUnder, parquetColumn } from '../testing/example-lake.js';
import { medallion } from '../testing/medallion-cli.js';

let dir: string;
let lake: string;
/** Rows of gold.top_100_companies. */
let companies: number;

const JOIN =
  'SELECT g.siret, g.nom_entreprise, e.code_postal FROM gold.top_100_companies g ' +
  'JOIN silver.etablissements e USING (siret) ORDER BY g.montant_total_contrats DESC, g.siret';

const query = (...args: string[]) => medallion(['query', '--lake', lake, ...args], {}, { cwd: dir });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-query-cli-'));
  lake = path.join(dir, 'lake');
  await exampleLake(path.join(dir, 'source'), localLake(lake));
  const top = new LakeLayout(localLake(lake)).table({ layer: 'gold', table: 'top_100_companies' });
  companies = snapshotRows((await top.snapshot())!);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('medallion query', () => {
  it('prints a join of silver and gold as a table, how many rows were not shown, and the versions read', async () => {
    const { code, stdout, stderr } = await query(JOIN, '--limit', '3');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]?.trim().split(/\s{2,}/)).toEqual(['siret', 'nom_entreprise', 'code_postal']);
    expect(lines.slice(1, 4).every((line) => /^ {2}\d{14} /.test(line))).toBe(true);
    expect(lines.slice(4)).toEqual([
      '',
      `3 of ${companies} rows shown: ${companies - 3} not shown (--limit N to see more, --format csv|json|parquet for all)`,
      'read gold.top_100_companies v0, silver.etablissements v0',
    ]);
  });

  it('writes CSV and Parquet to --out and JSON to stdout, the same rows in each', async () => {
    const csvFile = path.join(dir, 'top.csv');
    const csv = await query(JOIN, '--format', 'csv', '--out', csvFile);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe(
      `wrote ${companies} rows to ${csvFile} (csv); read gold.top_100_companies v0, silver.etablissements v0\n`,
    );
    const csvSirets = (await readFile(csvFile, 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',')[0]);
    const json = await query(JOIN, '--format', 'json');
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as { siret: string }[];
    expect(rows.map((row) => row.siret)).toEqual(csvSirets);
    const parquetFile = path.join(dir, 'top.parquet');
    expect((await query(JOIN, '--format', 'parquet', '--out', parquetFile)).code).toBe(0);
    expect(await parquetColumn(parquetFile, 'siret')).toEqual(csvSirets);
  });

  it('refuses a statement that writes with exit 2, saying what and why, and changes nothing', async () => {
    const before = await filesUnder(lake);
    const { code, stdout, stderr } = await query('DROP TABLE gold.top_100_companies');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^medallion: sql: refused: DROP writes to the database: only a SELECT may run\n/);
    expect(await filesUnder(lake)).toEqual(before);
  });

  it('refuses flags that do not go together and a time before the tables, with exit 2', async () => {
    const parquet = await query('SELECT 1', '--format', 'parquet');
    expect(parquet.code).toBe(2);
    expect(parquet.stderr).toContain('--format parquet needs --out FILE');
    const early = await query('SELECT * FROM gold.top_100_companies', '--as-of', '2000-01-01');
    expect(early.code).toBe(2);
    expect(early.stderr).toContain('gold.top_100_companies did not exist at 2000-01-01T00:00:00.000Z');
    const badTime = await query('SELECT 1', '--as-of', 'yesterday');
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('expected a date as YYYY-MM-DD or an instant');
  });
});
