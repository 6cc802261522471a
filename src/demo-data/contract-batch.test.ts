import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeContractBatch, type ContractBatchOptions } from './contract-batch.js';
import { CONTRACTS_FILE, ESTABLISHMENTS_FILE, generateDemoData, type DemoDataResult } from './generate.js';
import type { Json, JsonObject } from './json.js';

let root: string;
let dataset: DemoDataResult;
/** The first file's records, then each batch's. */
const files: JsonObject[][] = [];

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

async function marches(path: string): Promise<JsonObject[]> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as { marches: Json[] };
  return parsed.marches.filter(isObject);
}

/** The contract's key as silver computes it (uid, else buyer and id); none for concessions. */
function keyOf(record: JsonObject): string | undefined {
  if (record._type !== undefined) return undefined;
  const buyer = isObject(record.acheteur) ? String(record.acheteur.id) : '';
  return record.uid !== undefined ? String(record.uid) : `${buyer}|${String(record.id)}`;
}

/** Batch `file` of three; republishing from any earlier contract unless `previousOnly` (the default). */
function options(file: number, path: string, previousOnly = false): ContractBatchOptions {
  return {
    dataset: dataset.continuation,
    contractsPerFile: 300,
    files: 3,
    file,
    republishedShare: 0.2,
    ...(!previousOnly && { republishedFrom: 'any' }),
    path,
  };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'contract-batch-'));
  dataset = await generateDemoData({ scale: 0.2, seed: 7, outDir: join(root, 'first') });
  files.push(await marches(join(root, 'first', CONTRACTS_FILE)));
  for (let file = 0; file < 3; file++) {
    const batch = await writeContractBatch(options(file, join(root, `batch-${file}.json`)));
    expect(batch).toMatchObject({ records: 360, newContracts: 300, republished: 60 });
    files.push(await marches(batch.path));
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('writeContractBatch', () => {
  it('writes the same bytes for the same options', async () => {
    const again = await writeContractBatch(options(1, join(root, 'again.json')));
    expect((await readFile(again.path)).equals(await readFile(join(root, 'batch-1.json')))).toBe(true);
  });

  it('holds new contracts first, none of them in an earlier file', () => {
    for (let file = 1; file < files.length; file++) {
      const earlier = new Set(files.slice(0, file).flat().map(keyOf));
      const fresh = files[file]!.slice(0, 300)
        .map(keyOf)
        .filter((key) => key !== undefined);
      expect(fresh.length).toBeGreaterThan(250);
      expect(fresh.filter((key) => earlier.has(key))).toEqual([]);
    }
  });

  it('republishes contracts of earlier files, later and sometimes with another montant', () => {
    let fromFirstFile = 0;
    let changedAmount = 0;
    for (let file = 1; file < files.length; file++) {
      // Each contract's first publication (later files may republish it more than once).
      const earlier = new Map<string | undefined, JsonObject>();
      for (const record of files.slice(0, file).flat())
        if (!earlier.has(keyOf(record))) earlier.set(keyOf(record), record);
      for (const copy of files[file]!.slice(300)) {
        const key = keyOf(copy);
        if (key === undefined) continue;
        const original = earlier.get(key);
        expect(original, key).toBeDefined();
        if (files[0]!.includes(original!)) fromFirstFile++;
        const [before, after] = [original!.datePublicationDonnees, copy.datePublicationDonnees].map(String);
        if (before !== 'undefined') expect(after!.slice(0, 10) > before!.slice(0, 10), key).toBe(true);
        if (String(copy.montant) !== String(original!.montant)) changedAmount++;
      }
    }
    expect(fromFirstFile).toBeGreaterThan(0);
    expect(changedAmount).toBeGreaterThan(0);
  });

  it('republishes only contracts of the file before by default', async () => {
    const batch = await writeContractBatch(options(2, join(root, 'previous.json'), true));
    const previous = new Set(files[2]!.slice(0, 300).map(keyOf));
    const copies = (await marches(batch.path)).slice(300).map(keyOf);
    expect(copies.filter((key) => key !== undefined && !previous.has(key))).toEqual([]);
    expect(copies.filter((key) => key !== undefined).length).toBeGreaterThan(50);
  });

  it("gives new contracts titulaires among the dataset's establishments", async () => {
    const sirets = new Set(
      (await readFile(join(root, 'first', ESTABLISHMENTS_FILE), 'utf8'))
        .split('\n')
        .map((line) => line.split(',')[2]),
    );
    const titulaires = files[1]!
      .slice(0, 300)
      .flatMap((record) => (Array.isArray(record.titulaires) ? record.titulaires.filter(isObject) : []));
    const found = titulaires.filter((titulaire) => sirets.has(String(titulaire.id)));
    expect(found.length / titulaires.length).toBeGreaterThan(0.2);
  });
});
