import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../engine/duckdb/engine.js';
import { validSiret } from '../../testing/decp-reference.js';
import { macros } from './macros.js';

let dir: string;
let engine: DuckDbEngine;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-macros-'));
  engine = await DuckDbEngine.create({ scratchDir: dir });
  for (const macro of macros.duckdb) await engine.run(macro);
});

afterAll(async () => {
  engine.close();
  await rm(dir, { recursive: true, force: true });
});

/** as_siret of each identifier, as the silver table computes titulaire_siret. */
async function asSiret(ids: readonly string[]): Promise<(string | null)[]> {
  const values = ids.map((id, at) => `(${at}, '${id}')`).join(', ');
  const rows = await engine.all<{ siret: string | null }>(
    `SELECT as_siret(id) AS siret FROM (VALUES ${values}) AS ids(position, id) ORDER BY position`,
  );
  return rows.map((row) => row.siret);
}

describe('the SIRET check of the example pipeline', () => {
  const cases = [
    // La Poste's head office: Luhn passes, its digit sum (26) is no multiple of 5.
    { siret: '35600000000048', valid: true },
    // Another La Poste establishment: digit sum 20, Luhn fails.
    { siret: '35600000000015', valid: true },
    // A La Poste establishment is not checked by Luhn: this one passes Luhn, but its digit sum is 19.
    { siret: '35600000000014', valid: false },
    { siret: '73282932000074', valid: true },
    { siret: '73282932000075', valid: false },
  ];

  it('checks La Poste establishments by digit sum, except the head office, checked by Luhn like any other', async () => {
    expect(await asSiret(cases.map((entry) => entry.siret))).toEqual(
      cases.map((entry) => (entry.valid ? entry.siret : null)),
    );
  });

  it('agrees with the independent reference on those and on every SIRET of the La Poste SIREN', async () => {
    for (const { siret, valid } of cases) expect(validSiret(siret), siret).toBe(valid);
    const rows = await engine.all<{ siret: string }>(`
      SELECT s AS siret FROM (SELECT '356000000' || lpad(n::VARCHAR, 5, '0') AS s FROM range(100000) AS t(n))
      WHERE siret_valid(s) ORDER BY s`);
    const reference = Array.from(
      { length: 100_000 },
      (_, n) => `356000000${String(n).padStart(5, '0')}`,
    ).filter(validSiret);
    expect(rows.map((row) => row.siret)).toEqual(reference);
    expect(reference).toContain('35600000000048');
  });
});
