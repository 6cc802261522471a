/**
 * Queries over the example pipeline's lake, in process: joins at the current versions, the versions of a past
 * time, each output format read back, and every class of statement that must be refused — after each refusal,
 * not one file under the test's directory was written or changed. Then the same on a lake on MinIO.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, NotFoundError } from '../core/errors.js';
import { openLake, storeSettings, type StoreSettings } from '../project/locations.js';
import { snapshotRows } from '../table/delta-table.js';
import { LakeLayout, localLake, type LakeStores } from '../table/lake-layout.js';
import {
  addNafCodes,
  exampleLake,
  filesUnder,
  latestVersions,
  parquetColumn,
  NEW_NAF_CODES,
} from '../testing/example-lake.js';
import { freshBucketName, s3EnvFor, s3ServerOrSkip } from '../testing/minio.js';
import { LakeReader } from './lake-reader.js';
import { exportQuery, queryRows, type QueryRequest } from './query.js';

let dir: string;
let source: string;
let lake: string;
let reader: LakeReader;
/** A time between the two runs: every table's version 0 was committed by then, no version 1. */
let firstRunAt: Date;

const JOIN = `
  SELECT g.siret, g.montant_total_contrats, e.libelle_commune
    FROM gold.top_100_companies g JOIN silver.etablissements e ON e.siret = g.siret
   ORDER BY g.montant_total_contrats DESC, g.siret`;

function readerOf(settings: StoreSettings, scratchBase: string): LakeReader {
  return new LakeReader({ openLake: (location) => openLake(location, settings), scratchBase });
}

const request = (sql: string, asOf?: Date): QueryRequest => ({ lake, sql, ...(asOf && { asOf }) });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-query-'));
  source = path.join(dir, 'source');
  lake = path.join(dir, 'lake');
  await exampleLake(source, localLake(lake));
  firstRunAt = new Date();
  await addNafCodes(source, localLake(lake));
  reader = readerOf(storeSettings({}), path.join(dir, 'scratch'));
});

afterAll(async () => {
  await reader?.close();
  await rm(dir, { recursive: true, force: true });
});

async function rowsOf(layer: 'gold' | 'silver', table: string): Promise<number> {
  const snapshot = await new LakeLayout(localLake(lake)).table({ layer, table }).snapshot();
  return snapshotRows(snapshot!);
}

describe('queries over the lake', () => {
  it('joins silver and gold at their current versions and says which versions it read', async () => {
    const result = await queryRows(reader, request(JOIN), 1000);
    expect(result.columns.map((column) => column.name)).toEqual([
      'siret',
      'montant_total_contrats',
      'libelle_commune',
    ]);
    // Every company of the gold table is an establishment of silver, once.
    expect(result.total).toBe(await rowsOf('gold', 'top_100_companies'));
    expect(result.rows).toHaveLength(result.total);
    const amounts = result.rows.map((row) => Number(row[1]));
    expect(amounts).toEqual([...amounts].sort((a, b) => b - a));
    expect(result.tables.map((read) => `${read.layer}.${read.table} v${read.version}`).sort()).toEqual(
      await latestVersions(localLake(lake), ['gold.top_100_companies', 'silver.etablissements']),
    );
  });

  it('shows the first rows and counts the others, BIGINTs as numbers', async () => {
    const result = await queryRows(reader, request('SELECT * FROM silver.etablissements'), 5);
    expect(result.rows).toHaveLength(5);
    expect(result.total).toBe(await rowsOf('silver', 'etablissements'));
    const count = await queryRows(reader, request('SELECT count(*) AS n FROM silver.etablissements'), 5);
    expect(count.rows).toEqual([[result.total]]);
  });

  it('reads each table as of a time: the version committed by then, without the rows that came after', async () => {
    const sql = 'SELECT code_naf FROM silver.codes_naf ORDER BY code_naf';
    const now = await queryRows(reader, request(sql), 100_000);
    const then = await queryRows(reader, request(sql, firstRunAt), 100_000);
    expect(then.tables).toMatchObject([{ layer: 'silver', table: 'codes_naf', version: 0 }]);
    expect(now.tables).toMatchObject([{ version: 1 }]);
    const codes = (rows: typeof now.rows) => rows.map(([code]) => code);
    expect(codes(now.rows)).toEqual(expect.arrayContaining(NEW_NAF_CODES));
    expect(codes(then.rows)).not.toContain(NEW_NAF_CODES[0]);
    expect(then.total).toBe(now.total - NEW_NAF_CODES.length);
  });

  it('refuses a time before a table existed, naming the table and when it began', async () => {
    const error = await queryRows(
      reader,
      request('SELECT * FROM silver.codes_naf', new Date('2000-01-01T00:00:00Z')),
      10,
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).message).toBe(
      'silver.codes_naf did not exist at 2000-01-01T00:00:00.000Z',
    );
    expect((error as NotFoundError).hint).toMatch(/^its first version was committed at \d{4}-/);
  });

  it('says which tables a layer has when the query names one it lacks', async () => {
    const error = await queryRows(reader, request('SELECT * FROM gold.nope'), 10).catch((caught) => caught);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).hint).toContain('top_100_companies');
  });

  it('writes CSV, JSON and Parquet with the rows the query returns', async () => {
    const shown = await queryRows(reader, request(JOIN), 1000);
    const sirets = shown.rows.map(([siret]) => siret);
    const csv = await exportQuery(reader, request(JOIN), 'csv');
    const lines = (await readFile(csv.path, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('siret,montant_total_contrats,libelle_commune');
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(sirets);
    expect(csv.rows).toBe(shown.total);
    const json = await exportQuery(reader, request(JOIN), 'json');
    const objects = JSON.parse(await readFile(json.path, 'utf8')) as Record<string, unknown>[];
    expect(objects.map((row) => row.siret)).toEqual(sirets);
    expect(objects[0]).toEqual({
      siret: shown.rows[0]?.[0],
      montant_total_contrats: shown.rows[0]?.[1],
      libelle_commune: shown.rows[0]?.[2],
    });
    const parquet = await exportQuery(reader, request(JOIN), 'parquet');
    expect(await parquetColumn(parquet.path, 'siret')).toEqual(sirets);
    for (const file of [csv, json, parquet]) {
      expect(file.tables).toEqual(shown.tables);
      await file.remove();
      expect(existsSync(file.path)).toBe(false);
    }
  });
});

/** Where the attacks aim: paths in the test's directory that must never appear. */
const target = (name: string) => path.join(dir, 'attack', name);

/** Runs the query as a CSV export (whose file DuckDB may write) and expects a refusal; nothing changed under dir. */
async function expectRefused(sql: string, message: RegExp): Promise<void> {
  const before = await filesUnder(dir);
  for (const attempt of [
    () => exportQuery(reader, request(sql), 'csv'),
    () => queryRows(reader, request(sql), 10),
  ]) {
    const error = await attempt().catch((caught: unknown) => caught);
    expect(error, sql).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message, sql).toMatch(message);
  }
  expect(await filesUnder(dir), sql).toEqual(before);
  // The sandboxes and their result files are gone: only the reader's own directory is left.
  const [own, ...others] = await readdir(path.join(dir, 'scratch'));
  expect(others).toEqual([]);
  expect(await readdir(path.join(dir, 'scratch', own ?? ''))).toEqual([]);
}

describe('refusals, before anything runs', () => {
  beforeAll(async () => {
    await mkdir(path.join(dir, 'attack'), { recursive: true });
    // A query first, so that the reader's scratch directory exists in every `before`.
    await queryRows(reader, request('SELECT 1'), 1);
  });

  it('refuses statements that write: INSERT, UPDATE, DELETE, MERGE, CREATE, DROP, ALTER, TRUNCATE', async () => {
    for (const sql of [
      'INSERT INTO gold.top_100_companies SELECT * FROM gold.top_100_companies',
      "UPDATE gold.top_100_companies SET nom_entreprise = 'x'",
      'DELETE FROM silver.etablissements',
      'MERGE INTO gold.top_100_companies g USING silver.etablissements e ON g.siret = e.siret WHEN MATCHED THEN DELETE',
      'CREATE TABLE gold.stolen AS SELECT * FROM silver.etablissements',
      'CREATE VIEW v AS SELECT 1',
      'DROP TABLE gold.top_100_companies',
      'ALTER TABLE gold.top_100_companies ADD COLUMN x INTEGER',
      'TRUNCATE gold.top_100_companies',
    ]) {
      await expectRefused(sql, /^refused: [A-Z]+ writes to the database: only a SELECT may run$/);
    }
  });

  it('refuses COPY … TO, COPY … FROM and EXPORT DATABASE, and no file appears', async () => {
    for (const sql of [
      `COPY gold.top_100_companies TO '${target('top.csv')}'`,
      `COPY (SELECT * FROM silver.etablissements) TO '${target('all.parquet')}' (FORMAT parquet)`,
      `COPY gold.top_100_companies FROM '/etc/passwd'`,
      `EXPORT DATABASE '${target('export')}'`,
    ]) {
      await expectRefused(sql, /^refused: (COPY|EXPORT) copies data to or from files/);
    }
    expect(await readdir(path.join(dir, 'attack'))).toEqual([]);
  });

  it('refuses ATTACH and DETACH', async () => {
    await expectRefused(`ATTACH '${target('x.duckdb')}' AS x`, /^refused: ATTACH attaches/);
    await expectRefused(`ATTACH '${path.join(lake, 'gold')}' AS gold2 (READ_ONLY)`, /^refused: ATTACH/);
    await expectRefused('DETACH memory', /^refused: DETACH attaches/);
    expect(existsSync(target('x.duckdb'))).toBe(false);
  });

  it('refuses INSTALL and LOAD of extensions', async () => {
    await expectRefused('INSTALL httpfs', /^refused: INSTALL installs or loads extensions/);
    await expectRefused('LOAD httpfs', /^refused: LOAD installs or loads extensions/);
    await expectRefused("FORCE INSTALL 'x.duckdb_extension'", /^refused: FORCE installs/);
  });

  it('refuses SET, RESET and PRAGMA', async () => {
    await expectRefused('SET enable_external_access = true', /^refused: SET changes settings/);
    await expectRefused("SET allowed_paths = ['/etc/passwd']", /^refused: SET changes settings/);
    await expectRefused('RESET lock_configuration', /^refused: RESET changes settings/);
    await expectRefused('PRAGMA threads = 1', /^refused: PRAGMA runs a pragma/);
    await expectRefused("SET VARIABLE x = 'y'", /^refused: SET changes settings/);
  });

  it('refuses CALL and CHECKPOINT', async () => {
    await expectRefused('CALL pragma_version()', /^refused: CALL calls a procedure/);
    await expectRefused('CHECKPOINT', /^refused: CHECKPOINT maintains the database/);
  });

  it('refuses more than one statement, even when each is a SELECT', async () => {
    await expectRefused('SELECT 1; SELECT 2', /^refused: 2 statements/);
    await expectRefused(
      `SELECT * FROM gold.top_100_companies; COPY gold.top_100_companies TO '${target('x.csv')}'`,
      /^refused: 2 statements/,
    );
  });

  it('refuses reading files outside the lake’s tables: read_csv, read_parquet, read_text, glob, bare paths, query()', async () => {
    const dataFile = (await readdir(path.join(lake, 'gold', 'top_100_companies'))).find((name) =>
      name.endsWith('.parquet'),
    );
    for (const sql of [
      "SELECT * FROM read_csv('/etc/passwd')",
      `SELECT * FROM read_parquet('${path.join(lake, 'gold', 'top_100_companies', dataFile ?? '')}')`,
      "SELECT * FROM read_text('/etc/hostname')",
      "SELECT * FROM read_json_auto('/etc/os-release')",
      "SELECT * FROM glob('/etc/*')",
      "SELECT * FROM gold.top_100_companies WHERE siret IN (SELECT content FROM read_text('/etc/hostname'))",
      "SELECT * FROM query('SELECT 1')",
      'SELECT * FROM duckdb_settings()',
    ]) {
      await expectRefused(
        sql,
        /^refused: the table function \w+\(\) can read files or the database's state$/,
      );
    }
    await expectRefused("SELECT * FROM '/etc/passwd'", /^refused: '\/etc\/passwd' is a file outside/);
    await expectRefused('SELECT * FROM "data.csv"', /^refused: 'data.csv' is a file outside/);
  });

  it('refuses tables that are not the lake’s: other schemas and databases, names that leave a layer', async () => {
    for (const [sql, name] of [
      ['SELECT * FROM information_schema.tables', 'information_schema.tables'],
      ['SELECT * FROM memory.main.x', 'memory.main.x'],
      ['SELECT * FROM gold."../silver/etablissements"', 'gold.../silver/etablissements'],
      ['SELECT * FROM top_100_companies', 'top_100_companies'],
    ] as const) {
      await expectRefused(
        sql,
        new RegExp(`^refused: ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a table`),
      );
    }
  });
});

describe('DuckDB’s own guards, behind the rules', () => {
  it('refuse a file the views do not read and any statement but a SELECT, even asked directly', async () => {
    const layout = new LakeLayout(localLake(lake));
    const gold = layout.table({ layer: 'gold', table: 'top_100_companies' });
    const other = layout.table({ layer: 'silver', table: 'codes_naf' });
    const otherFile = (await other.snapshot())?.files[0]?.path ?? '';
    const sandbox = await reader.sandbox();
    try {
      await sandbox.addView('gold', gold, (await gold.snapshot())!);
      await sandbox.seal();
      const settings = await sandbox.preview(
        "SELECT current_setting('enable_external_access') AS open, current_setting('lock_configuration') AS locked",
        1,
      );
      expect(settings.rows).toEqual([[false, true]]);
      expect((await sandbox.preview('SELECT count(*) FROM gold.top_100_companies', 1)).total).toBe(1);
      for (const file of ['/etc/passwd', path.join(lake, 'silver', 'codes_naf', otherFile)]) {
        await expect(sandbox.preview(`SELECT * FROM read_csv('${file}')`, 1)).rejects.toThrow(
          /^refused: the query reaches outside the lake's tables \(Permission Error/,
        );
      }
      await expect(sandbox.preview(`COPY (SELECT 1) TO '${target('direct.csv')}'`, 1)).rejects.toThrow(
        /^refused: the query reaches outside the lake's tables \(Permission Error/,
      );
      await expect(sandbox.preview('CREATE TEMP TABLE t AS SELECT 1', 1)).rejects.toThrow(
        /^refused: DuckDB binds the statement as CREATE, not a SELECT$/,
      );
      await expect(sandbox.preview('SET lock_configuration = false', 1)).rejects.toThrow(
        /as SET, not a SELECT/,
      );
      expect(existsSync(target('direct.csv'))).toBe(false);
    } finally {
      await sandbox.close();
    }
  });
});

const server = s3ServerOrSkip('queries over a lake on MinIO');

describe.skipIf(!server)('a lake on MinIO', () => {
  let s3: { reader: LakeReader; lake: LakeStores };

  beforeAll(async () => {
    const settings = storeSettings(s3EnvFor(server!, path.join(dir, 's3-cache')));
    const stores = await openLake(`s3://${freshBucketName('query').slice(0, 40)}-{layer}`, settings);
    await exampleLake(path.join(dir, 's3-source'), stores);
    s3 = { reader: readerOf(settings, path.join(dir, 's3-scratch')), lake: stores };
  });

  afterAll(async () => {
    await s3?.reader.close();
  });

  it('joins silver and gold and writes Parquet with the same rows as the same data on disk', async () => {
    const onS3 = { lake: s3.lake.location, sql: JOIN };
    const rows = await queryRows(s3.reader, onS3, 1000);
    expect(rows.total).toBeGreaterThan(0);
    const atFirst = await queryRows(reader, request(JOIN, firstRunAt), 1000);
    expect(rows.rows).toEqual(atFirst.rows);
    const parquet = await exportQuery(s3.reader, onS3, 'parquet');
    expect(parquet.rows).toBe(rows.total);
    await parquet.remove();
  });

  it('refuses reading a file of its own download cache', async () => {
    const cache = path.join(dir, 's3-cache');
    await expect(
      queryRows(s3.reader, { lake: s3.lake.location, sql: `SELECT * FROM glob('${cache}/*')` }, 10),
    ).rejects.toThrow(/^refused: the table function glob\(\)/);
  });
});
