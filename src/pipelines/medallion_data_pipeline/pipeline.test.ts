import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TableId } from '../../core/graph.js';
import { generateDemoData } from '../../demo-data/generate.js';
import { DuckDbEngine } from '../../engine/duckdb/engine.js';
import { runPipeline } from '../../runner/run-pipeline.js';
import type { RunSummary } from '../../runner/run-summary.js';
import { LocalDiskStore } from '../../storage/local-disk.js';
import { LakeLayout, localLake } from '../../table/lake-layout.js';
import { exportWithDeltaRs, skipWithoutDeltaRs } from '../../testing/delta-rs.js';
import {
  referenceActiveSirets,
  referenceContracts,
  referenceHeadline,
} from '../../testing/decp-reference.js';
import pipeline from './pipeline.js';

let dir: string;
let source: string;
let lake: string;
let first: RunSummary;

const run = () =>
  runPipeline({
    pipeline,
    source: new LocalDiskStore(source),
    lake: localLake(lake),
    logicalDate: '2026-11-26',
  });

function table(summary: RunSummary, name: string) {
  const found = summary.tables.find((entry) => `${entry.layer}.${entry.table}` === name);
  if (!found) throw new Error(`${name} is not in the summary`);
  return found;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-e2e-'));
  source = path.join(dir, 'source');
  lake = path.join(dir, 'lake');
  await generateDemoData({ scale: 0.2, seed: 7, outDir: source });
  first = await run();
});

describe('medallion_data_pipeline on generated data', () => {
  it('runs every task, landing to quality_check, successfully', () => {
    expect(first.error).toBeUndefined();
    expect(first.status).toBe('success');
    expect(first.tasks.map((task) => task.id)).toEqual([
      'ingest',
      'bronze.marches_publics',
      'bronze.etablissements',
      'bronze.codes_naf',
      'silver.marches_publics',
      // Its expectation active_naf_known reads silver.codes_naf.
      'silver.codes_naf',
      'silver.etablissements',
      'gold.active_companies_with_contracts_2022',
      'gold.summary_by_sector',
      'gold.summary_by_region',
      'gold.summary_by_company_size',
      'gold.top_100_companies',
      'quality_check',
    ]);
  });

  it('lands the source files byte for byte, with their checksums', async () => {
    expect(first.ingest.landed).toHaveLength(3);
    for (const file of first.ingest.landed) {
      const original = await readFile(path.join(source, file.file));
      expect((await readFile(path.join(lake, 'landing', file.landingKey))).equals(original), file.file).toBe(
        true,
      );
    }
  });

  it('accounts for every record of every refined table', () => {
    for (const entry of first.tables.filter((candidate) => candidate.accounting)) {
      const { rowsIn, recordsOut, deduplicated, quarantined } = entry.accounting!;
      expect(rowsIn, entry.table).toBe(recordsOut + deduplicated + quarantined);
    }
  });

  it('follows the contract rules as an independent reading of the source does', () => {
    const reference = referenceContracts(path.join(source, 'aws-marchespublics-annee-2022.json'));
    const silver = table(first, 'silver.marches_publics');
    expect(table(first, 'bronze.marches_publics').rows).toBe(reference.records);
    expect(silver.accounting).toMatchObject({
      rowsIn: reference.records,
      deduplicated: reference.deduplicated,
      quarantined: reference.noTitulaire,
      quarantineReasons: { no_titulaire: reference.noTitulaire },
    });
    expect(silver.rows).toBe(reference.rows.length);
    expect(reference.deduplicated).toBeGreaterThan(0);
    expect(reference.noTitulaire).toBeGreaterThan(0);
  });

  it('finds the same gold headline as an independent computation', () => {
    const reference = referenceHeadline(
      referenceContracts(path.join(source, 'aws-marchespublics-annee-2022.json')),
      referenceActiveSirets(path.join(source, 'simulated_etablissements_50000.csv')),
    );
    expect(reference.companies).toBeGreaterThan(0);
    expect(first.headline).toMatchObject({ companies: reference.companies, contracts: reference.contracts });
    expect(Number(first.headline?.total_value)).toBeCloseTo(reference.totalValue, 0);
  });

  it('profiles tables from Delta stats with the figures a scan of the data gives', async () => {
    const profile = first.quality.find((entry) => entry.table === 'silver.etablissements');
    const engine = await DuckDbEngine.create({ scratchDir: path.join(dir, 'profile') });
    try {
      const table = new LakeLayout(localLake(lake)).table({ layer: 'silver', table: 'etablissements' });
      await engine.registerSnapshot('t', (await table.snapshot(profile!.version))!, table.store, table.root);
      const scan = await engine.one(`
        SELECT count(*)::INTEGER AS n, (count(*) - count(enseigne))::INTEGER AS enseigne_nulls,
          (count(*) - count(etat_administratif))::INTEGER AS etat_nulls,
          min(date_creation)::VARCHAR AS first_created, max(date_creation)::VARCHAR AS last_created FROM t`);
      expect(profile?.rows).toBe(scan.n);
      expect(profile?.nullShare.enseigne).toBeCloseTo(Number(scan.enseigne_nulls) / Number(scan.n), 4);
      expect(profile?.nullShare.etat_administratif).toBeCloseTo(Number(scan.etat_nulls) / Number(scan.n), 4);
      expect(profile?.dateRanges.date_creation).toEqual({ min: scan.first_created, max: scan.last_created });
    } finally {
      engine.close();
    }
  });

  it('keeps at most 100 rows in top_100_companies', () => {
    expect(table(first, 'gold.top_100_companies').rows).toBeLessThanOrEqual(100);
  });

  it('writes every table as a Delta table of Parquet files and JSON commits', async () => {
    for (const entry of first.tables) {
      const log = await readdir(path.join(lake, entry.layer, entry.table, '_delta_log'));
      expect(log.length, entry.table).toBeGreaterThan(0);
    }
  });

  it('ingests nothing and appends nothing when run again without new files', async () => {
    const second = await run();
    expect(second.status).toBe('success');
    expect(second.ingest.landed).toHaveLength(0);
    expect(second.ingest.skipped).toHaveLength(3);
    for (const name of ['bronze.marches_publics', 'bronze.etablissements', 'bronze.codes_naf']) {
      expect(table(second, name).rows).toBe(table(first, name).rows);
      expect(table(second, name).version).toBe(table(first, name).version);
    }
    expect(second.headline).toEqual(first.headline);
  });
});

describe.skipIf(skipWithoutDeltaRs())('the tables as an independent Delta reader sees them', () => {
  it('reads every bronze, silver, gold and quarantine table with the same rows in delta-rs', async () => {
    const engine = await DuckDbEngine.create({ scratchDir: path.join(dir, 'compare') });
    const layout = new LakeLayout(localLake(lake));
    try {
      const ids = [
        ...first.tables.map((entry) => ({ layer: entry.layer, table: entry.table }) as TableId),
        { layer: 'quarantine', table: 'silver_marches_publics' } as TableId,
        { layer: 'quarantine', table: 'silver_codes_naf' } as TableId,
      ];
      for (const id of ids) {
        const table = layout.table(id);
        const snapshot = await table.snapshot();
        expect(snapshot, table.root).toBeDefined();
        const exported = path.join(dir, `${id.layer}-${id.table}.parquet`);
        const read = exportWithDeltaRs(path.join(table.store.location, table.root), exported);
        expect(read.version, table.root).toBe(snapshot!.version);
        expect(read.partitionColumns, table.root).toEqual(snapshot!.partitionColumns);
        await engine.registerSnapshot('mine', snapshot!, table.store, table.root);
        const columns = snapshot!.schema.fields.map((field) => `"${field.name}"`).join(', ');
        const theirs = `(SELECT ${columns} FROM read_parquet('${exported}'))`;
        const [diff] = await engine.all<{ mine: number; theirs: number; different: number }>(`
          SELECT (SELECT count(*) FROM mine)::INTEGER AS mine, (SELECT count(*) FROM ${theirs})::INTEGER AS theirs,
            (SELECT count(*) FROM ((SELECT * FROM mine EXCEPT ALL SELECT * FROM ${theirs})
              UNION ALL (SELECT * FROM ${theirs} EXCEPT ALL SELECT * FROM mine)))::INTEGER AS different`);
        expect(diff, table.root).toEqual({ mine: read.rows, theirs: read.rows, different: 0 });
      }
    } finally {
      engine.close();
    }
  });

  it("reads a gold table with the README's Python example, in the venv it names", () => {
    const out = execFileSync(
      path.resolve('.cache/py/bin/python'),
      [path.resolve('scripts/read_table.py'), path.join(lake, 'gold', 'top_100_companies'), '1'],
      { encoding: 'utf8' },
    );
    const top = first.tables.find((entry) => entry.table === 'top_100_companies');
    expect(out).toMatch(
      new RegExp(`gold/top_100_companies: version \\d+, ${top?.rows} rows, columns siret, nom_entreprise`),
    );
  });
});
