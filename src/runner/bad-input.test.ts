import { readdirSync, writeFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, realpath, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateDemoData } from '../demo-data/generate.js';
import { etablissementsSource } from '../pipelines/medallion_data_pipeline/sources.js';
import { parseCsv } from '../testing/decp-reference.js';
import pipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { LakeLayout, localLake } from '../table/lake-layout.js';
import { runPipeline } from './run-pipeline.js';
import type { RunSummary } from './run-summary.js';

/**
 * Each case starts from a lake where one good run has happened, adds one bad file to the source,
 * and checks the error names the file (and where), nothing partial is committed, and the
 * previous tables stay current and readable.
 */
let base: string;

beforeAll(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'medallion-bad-input-'));
  await generateDemoData({ scale: 0.05, seed: 11, outDir: path.join(base, 'source') });
  const first = await run(base);
  expect(first.status).toBe('success');
});

function run(dir: string, retryRejected = false): Promise<RunSummary> {
  return runPipeline({
    pipeline,
    source: new LocalDiskStore(path.join(dir, 'source')),
    lake: localLake(path.join(dir, 'lake')),
    logicalDate: '2026-11-26',
    retryRejected,
  });
}

/** A copy of the good source and lake (in a directory named by its real path). */
async function copyOfBase(): Promise<string> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'medallion-case-')));
  await cp(path.join(base, 'source'), path.join(dir, 'source'), { recursive: true });
  await cp(path.join(base, 'lake'), path.join(dir, 'lake'), { recursive: true });
  return dir;
}

/** A copy of the good source and lake, plus one extra source file. */
async function caseWith(fileName: string, content: Buffer | string): Promise<string> {
  const dir = await copyOfBase();
  await writeFile(path.join(dir, 'source', fileName), content);
  return dir;
}

async function versions(dir: string): Promise<Record<string, number | undefined>> {
  const lake = new LakeLayout(localLake(path.join(dir, 'lake')));
  const result: Record<string, number | undefined> = {};
  for (const id of [
    { layer: 'bronze', table: 'marches_publics' },
    { layer: 'bronze', table: 'etablissements' },
    { layer: 'silver', table: 'marches_publics' },
    { layer: 'gold', table: 'active_companies_with_contracts_2022' },
  ] as const) {
    result[`${id.layer}.${id.table}`] = (await lake.table(id).snapshot())?.version;
  }
  return result;
}

function failedTask(summary: RunSummary) {
  return summary.tasks.find((task) => task.status === 'failed');
}

async function expectRejected(fileName: string, content: Buffer | string, task: string, message: RegExp) {
  const dir = await caseWith(fileName, content);
  const before = await versions(dir);
  const summary = await run(dir);
  expect(summary.status).toBe('failed');
  expect(failedTask(summary)?.id).toBe(task);
  expect(failedTask(summary)?.error).toContain(fileName);
  expect(failedTask(summary)?.error).toMatch(message);
  // The failed bronze table and the gold table downstream of it keep their version.
  const after = await versions(dir);
  expect(after[task]).toBe(before[task]);
  expect(after['gold.active_companies_with_contracts_2022']).toBe(
    before['gold.active_companies_with_contracts_2022'],
  );
  return dir;
}

const contractsFile = () => readFile(path.join(base, 'source', 'aws-marchespublics-annee-2022.json'), 'utf8');
const establishmentsFile = () =>
  readFile(path.join(base, 'source', 'simulated_etablissements_50000.csv'), 'utf8');

describe('bad input files', () => {
  it('rejects a truncated JSON file with the record and byte where it ends, then leaves it alone', async () => {
    const text = await contractsFile();
    const dir = await expectRejected(
      'aws-marchespublics-annee-2023.json',
      text.slice(0, Math.floor(text.length / 2)),
      'bronze.marches_publics',
      /record \d+, line \d+, byte \d+\).*truncated/,
    );
    // The file is recorded as rejected: the next run does not retry it and succeeds…
    const next = await run(dir);
    expect(next.status).toBe('success');
    expect(next.ingest.skipped).toContainEqual({
      source: 'marches',
      file: 'aws-marchespublics-annee-2023.json',
      status: 'rejected',
    });
    // …unless asked to.
    expect((await run(dir, true)).status).toBe('failed');
  });

  it('rejects a JSON record that does not parse, naming the record and its line', async () => {
    const text = (await contractsFile()).replace('"montant": "', '"montant": , "');
    await expectRejected(
      'aws-marchespublics-annee-2021.json',
      text,
      'bronze.marches_publics',
      /record \d+, line \d+, byte \d+\): malformed JSON/,
    );
  });

  it('rejects a CSV missing a required column, naming the column', async () => {
    const text = (await establishmentsFile()).replace('siret,', 'identifiant,');
    await expectRejected('simulated_etablissements_extra.csv', text, 'bronze.etablissements', /siret/);
  });

  it('reads a CSV written with another delimiter correctly', async () => {
    const rows = (await establishmentsFile()).split('\n').slice(0, 4);
    const semicolons = rows.map((line) => line.replaceAll(',', ';')).join('\n') + '\n';
    const dir = await caseWith('simulated_etablissements_semicolons.csv', semicolons);
    const summary = await run(dir);
    expect(summary.status).toBe('success');
    const bronze = summary.tables.find(
      (table) => table.table === 'etablissements' && table.layer === 'bronze',
    );
    expect(bronze?.rowsWritten).toBe(3);
  });

  it('loads a CSV that lacks optional columns, leaving them NULL for its rows', async () => {
    const [header = [], ...rows] = parseCsv(await establishmentsFile());
    const keep =
      etablissementsSource.format.type === 'csv' ? etablissementsSource.format.requiredColumns : [];
    const positions = keep.map((name) => header.indexOf(name));
    const narrow = [keep, ...rows.slice(0, 3).map((row) => positions.map((at) => row[at] ?? ''))]
      .map((row) => row.join(','))
      .join('\n');
    const dir = await caseWith('simulated_etablissements_narrow.csv', `${narrow}\n`);
    const summary = await run(dir);
    expect(summary.status).toBe('success');
    const bronze = summary.tables.find(
      (table) => table.table === 'etablissements' && table.layer === 'bronze',
    );
    expect(bronze?.rowsWritten).toBe(3);
    const snapshot = await new LakeLayout(localLake(path.join(dir, 'lake')))
      .table({ layer: 'bronze', table: 'etablissements' })
      .snapshot();
    expect(snapshot?.schema.fields.find((field) => field.name === 'enseigne1Etablissement')?.type).toBe(
      'string',
    );
  });

  it('rejects an empty file', async () => {
    await expectRejected('simulated_etablissements_empty.csv', '', 'bronze.etablissements', /empty/);
  });

  it('rejects bytes that are not UTF-8, naming the byte and line', async () => {
    const lines = (await establishmentsFile()).split('\n').slice(0, 3);
    const latin1 = Buffer.concat([
      Buffer.from(lines.join('\n') + '\n'),
      Buffer.from('x,caf\xe9\n', 'latin1'),
    ]);
    await expectRejected(
      'simulated_etablissements_latin1.csv',
      latin1,
      'bronze.etablissements',
      /line 4, byte \d+\): not valid UTF-8: byte 0xE9/,
    );
  });

  it('rejects a CSV whose quote never closes, naming the line', async () => {
    const lines = (await establishmentsFile()).split('\n').slice(0, 3);
    await expectRejected(
      'simulated_etablissements_quote.csv',
      `${lines.join('\n')}\n"open,quote\n`,
      'bronze.etablissements',
      /line 4, byte \d+\): a quoted field is never closed/,
    );
  });

  it('rejects a CSV holding NUL bytes, naming the line of the first, even in the header', async () => {
    const lines = (await establishmentsFile()).split('\n').slice(0, 5);
    const nul = lines.map((line, index) => (index === 2 || index === 4 ? line.replace(',', ',\0') : line));
    await expectRejected(
      'simulated_etablissements_nul.csv',
      `${nul.join('\n')}\n`,
      'bronze.etablissements',
      /line 3, byte \d+\): NUL byte/,
    );
    await expectRejected(
      'simulated_etablissements_nul_header.csv',
      `${lines.join('\n').replace('siret', 'sir\0et')}\n`,
      'bronze.etablissements',
      /line 1, byte \d+\): NUL byte/,
    );
  });

  it('quarantines a CSV row with too many fields and loads the others', async () => {
    const lines = (await establishmentsFile()).split('\n').slice(0, 4);
    const dir = await caseWith(
      'simulated_etablissements_row.csv',
      `${lines.join('\n')}\n${lines[1]},extra\n`,
    );
    const summary = await run(dir);
    expect(summary.status).toBe('success');
    const bronze = summary.tables.find(
      (table) => table.table === 'etablissements' && table.layer === 'bronze',
    );
    expect(bronze?.accounting).toMatchObject({ rowsIn: 4, recordsOut: 3, quarantined: 1 });
    const quarantine = new LakeLayout(localLake(path.join(dir, 'lake'))).quarantine({
      layer: 'bronze',
      table: 'etablissements',
    });
    expect((await quarantine.snapshot())?.files.length).toBeGreaterThan(0);
  });

  it('refuses a landing copy whose bytes changed after it landed', async () => {
    const dir = await caseWith('aws-marchespublics-annee-2019.json', `${await contractsFile()}\n`);
    const landing = localLake(path.join(dir, 'lake')).store('landing');
    const summary = await runPipeline({
      pipeline,
      source: new LocalDiskStore(path.join(dir, 'source')),
      lake: localLake(path.join(dir, 'lake')),
      progress: (event) => {
        if (event.type !== 'task-started' || event.task !== 'bronze.marches_publics') return;
        // The newest ingestion directory holds the file this run landed.
        const newest = readdirSync(path.join(landing.location, 'marches')).sort().pop() ?? '';
        writeFileSync(
          path.join(landing.location, 'marches', newest, 'aws-marchespublics-annee-2019.json'),
          '{"marches": []}',
        );
      },
    });
    expect(summary.status).toBe('failed');
    expect(failedTask(summary)?.error).toMatch(
      /aws-marchespublics-annee-2019.json: the landing copy's SHA-256/,
    );
  });

  it('reports a file that matches no source and leaves it alone', async () => {
    const dir = await caseWith('notes.txt', 'not a source');
    const summary = await run(dir);
    expect(summary.status).toBe('success');
    expect(summary.ingest.unmatched).toEqual(['notes.txt']);
  });

  it('reads a source symlink that stays in the source folder, and skips with the reason one leading out of it, a directory leading out and a dangling one', async () => {
    const dir = await copyOfBase();
    const source = path.join(dir, 'source');
    const elsewhere = path.join(dir, 'elsewhere');
    await mkdir(elsewhere);
    // Files a source declares, which would land and load if the links to them were followed.
    await writeFile(path.join(elsewhere, 'aws-marchespublics-annee-2018.json'), await contractsFile());
    const links = {
      'simulated_etablissements_linked.csv': 'simulated_etablissements_50000.csv',
      'aws-marchespublics-annee-2018.json': path.join(elsewhere, 'aws-marchespublics-annee-2018.json'),
      'more-contracts': elsewhere,
      'aws-marchespublics-annee-2017.json': path.join(dir, 'deleted.json'),
    };
    for (const [link, target] of Object.entries(links)) await symlink(target, path.join(source, link));
    const logged: string[] = [];

    const summary = await runPipeline({
      pipeline,
      source: new LocalDiskStore(source),
      lake: localLake(path.join(dir, 'lake')),
      logicalDate: '2026-11-26',
      progress: (event) => {
        if (event.type === 'task-progress' && event.task === 'ingest') logged.push(event.message);
      },
    });

    expect(summary.status).toBe('success');
    expect(summary.ingest.landed).toEqual([]);
    // Read and hashed: the same bytes as a file the first run loaded.
    expect(summary.ingest.skipped).toContainEqual({
      source: 'etablissements',
      file: 'simulated_etablissements_linked.csv',
      status: 'loaded',
    });
    const reasons = {
      'aws-marchespublics-annee-2017.json': `symlink to ${path.join(dir, 'deleted.json')} points to nothing`,
      'aws-marchespublics-annee-2018.json': `symlink to ${path.join(elsewhere, 'aws-marchespublics-annee-2018.json')} points outside ${source}`,
      'more-contracts': `symlink to ${elsewhere} points outside ${source}`,
    };
    expect(summary.ingest.refused).toEqual(
      Object.entries(reasons).map(([file, reason]) => ({ file, reason })),
    );
    for (const [file, reason] of Object.entries(reasons))
      expect(logged).toContain(`skipped ${file}: ${reason}`);
    expect(summary.tasks.find((task) => task.id === 'ingest')?.status).toBe('success');
  });
});
