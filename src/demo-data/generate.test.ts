import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS_FILE, ESTABLISHMENTS_FILE, NAF_FILE, generateDemoData, luhnValid } from './generate.js';
import type { DemoDataResult } from './generate.js';
import { ESTABLISHMENT_HEADER } from './establishments.js';
import { NAF_HEADER } from './naf.js';
import { parseCsv } from '../testing/decp-reference.js';

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
type Rec = { [key: string]: JsonValue };

function isRec(value: JsonValue | undefined): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function recs(value: JsonValue | undefined): Rec[] {
  return Array.isArray(value) ? value.filter(isRec) : [];
}

function str(value: JsonValue | undefined): string {
  return value === undefined || value === null
    ? ''
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value);
}

let root: string;
let dirA: string;
let result: DemoDataResult;
let contractsText: string;
let marches: Rec[];
let estRows: string[][];
let estHeader: string[];
let nafBytes: Buffer;

async function generate(
  name: string,
  scale: number,
  seed: number,
): Promise<{ dir: string; result: DemoDataResult }> {
  const dir = join(root, name);
  return { dir, result: await generateDemoData({ scale, seed, outDir: dir }) };
}

function column(name: string): number {
  const i = estHeader.indexOf(name);
  if (i < 0) throw new Error(`no column ${name}`);
  return i;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'demo-data-'));
  ({ dir: dirA, result } = await generate('a', 0.2, 7));
  contractsText = await readFile(join(dirA, CONTRACTS_FILE), 'utf8');
  const parsed: JsonValue = JSON.parse(contractsText);
  marches = isRec(parsed) ? recs(parsed.marches) : [];
  const [header, ...rows] = parseCsv(await readFile(join(dirA, ESTABLISHMENTS_FILE), 'utf8'), ',');
  estHeader = header ?? [];
  estRows = rows;
  nafBytes = await readFile(join(dirA, NAF_FILE));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('generateDemoData', () => {
  it('writes the same bytes for the same seed', async () => {
    const again = await generate('a-again', 0.2, 7);
    for (const name of [CONTRACTS_FILE, ESTABLISHMENTS_FILE, NAF_FILE]) {
      const first = await readFile(join(dirA, name));
      const second = await readFile(join(again.dir, name));
      expect(first.equals(second), name).toBe(true);
    }
  });

  it('writes different content for a different seed', async () => {
    const other = await generate('other-seed', 0.2, 8);
    for (const name of [CONTRACTS_FILE, ESTABLISHMENTS_FILE, NAF_FILE]) {
      const first = await readFile(join(dirA, name));
      const second = await readFile(join(other.dir, name));
      expect(first.equals(second), name).toBe(false);
    }
  });

  it('grows contract and establishment files linearly with scale', async () => {
    const half = await generate('half', 0.1, 7);
    for (const name of [CONTRACTS_FILE, ESTABLISHMENTS_FILE]) {
      const small = half.result.files.find((f) => f.name === name)?.bytes ?? 0;
      const large = result.files.find((f) => f.name === name)?.bytes ?? 0;
      expect(large / small, name).toBeGreaterThan(2 * 0.85);
      expect(large / small, name).toBeLessThan(2 * 1.15);
    }
  });

  it('reports each file with its path, size and record count', () => {
    expect(result.files.map((f) => [f.name, f.records])).toEqual([
      [CONTRACTS_FILE, 1800],
      [ESTABLISHMENTS_FILE, 10_000],
      [NAF_FILE, parseCsv(nafBytes.toString('utf8').slice(1), ';').length - 1],
    ]);
    for (const file of result.files) expect(file.path).toBe(join(dirA, file.name));
    expect(result.files[0]?.bytes).toBe(Buffer.byteLength(contractsText));
  });

  it('calls onProgress with growing record counts per file', async () => {
    const seen: { file: string; records: number }[] = [];
    await generateDemoData({
      scale: 0.5,
      seed: 1,
      outDir: join(root, 'progress'),
      onProgress: (p) => seen.push(p),
    });
    const est = seen.filter((p) => p.file === ESTABLISHMENTS_FILE).map((p) => p.records);
    expect(est.length).toBeGreaterThan(1);
    expect(est.at(-1)).toBe(25_000);
    expect(est).toEqual([...est].sort((a, b) => a - b));
    expect(seen.filter((p) => p.file === CONTRACTS_FILE).at(-1)?.records).toBe(4_500);
  });

  it('writes at least one record per file at a tiny scale', async () => {
    const tiny = await generate('tiny', 0.00001, 3);
    expect(tiny.result.files.map((f) => f.records).slice(0, 2)).toEqual([1, 1]);
    const text = await readFile(join(tiny.dir, CONTRACTS_FILE), 'utf8');
    expect(recs((JSON.parse(text) as { marches: JsonValue }).marches)).toHaveLength(1);
  });

  it('rejects a scale that is not a positive number and a seed that is not an integer', async () => {
    await expect(generateDemoData({ scale: 0, seed: 1, outDir: join(root, 'bad') })).rejects.toThrow(/scale/);
    await expect(generateDemoData({ scale: 1, seed: 1.5, outDir: join(root, 'bad') })).rejects.toThrow(
      /seed/,
    );
  });
});

describe('contracts file', () => {
  it('parses as {"marches": [...]} with one element per expected contract', () => {
    expect(marches).toHaveLength(1800);
  });

  it('is laid out like Python json.dumps(indent=2, ensure_ascii=False)', () => {
    expect(contractsText).toMatch(/^\{\n {2}"marches": \[\n {4}\{\n {6}"/);
    expect(contractsText.endsWith('\n    }\n  ]\n}')).toBe(true);
    expect(JSON.stringify(JSON.parse(contractsText), null, 2)).toBe(contractsText);
    expect(contractsText).toContain('é');
  });

  it('keeps the DECP key order', () => {
    const order = [
      'id',
      'uid',
      'acheteur',
      'nature',
      'objet',
      'codeCPV',
      'procedure',
      'lieuExecution',
      'dureeMois',
    ];
    const full = marches.find((m) => 'uid' in m && 'montant' in m && 'dateNotification' in m);
    expect(Object.keys(full ?? {})).toEqual([
      ...order,
      'dateNotification',
      'datePublicationDonnees',
      'montant',
      'formePrix',
      'titulaires',
      'modifications',
    ]);
    const withUid = marches.filter((m) => 'uid' in m).length / marches.length;
    expect(withUid).toBeGreaterThan(0.4);
    expect(withUid).toBeLessThan(0.6);
  });
});

describe('establishments file', () => {
  it('has the exact SIRENE header and 53 fields on every row', () => {
    expect(estHeader.join(',')).toBe(ESTABLISHMENT_HEADER);
    expect(estHeader).toHaveLength(53);
    expect(estRows).toHaveLength(10_000);
    for (const row of estRows) expect(row).toHaveLength(53);
  });

  it('uses LF endings and no BOM', async () => {
    const raw = await readFile(join(dirA, ESTABLISHMENTS_FILE));
    expect(raw[0]).toBe('s'.charCodeAt(0));
    expect(raw.includes('\r')).toBe(false);
    expect(raw.at(-1)).toBe(10);
  });
});

describe('NAF file', () => {
  it('starts with a UTF-8 BOM and the INSEE header, then section rows', () => {
    expect([...nafBytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = nafBytes.toString('utf8').slice(1).split('\n');
    expect(lines[0]).toBe(NAF_HEADER);
    expect(lines[1]).toMatch(/^SECTION A;/);
    expect(nafBytes.includes('\r')).toBe(false);
  });

  it('lists codes at every level, between a few hundred and 2,000 of them', () => {
    const codes = parseCsv(nafBytes.toString('utf8').slice(1), ';')
      .slice(1)
      .map((r) => r[0] ?? '');
    expect(codes.filter((c) => c.startsWith('SECTION '))).toHaveLength(21);
    for (const pattern of [/^\d\d$/, /^\d\d\.\d$/, /^\d\d\.\d\d$/, /^\d\d\.\d\d[A-Z]$/]) {
      expect(
        codes.some((c) => pattern.test(c)),
        String(pattern),
      ).toBe(true);
    }
    expect(codes.length).toBeGreaterThan(300);
    expect(codes.length).toBeLessThan(2000);
  });

  it('does not grow with scale', async () => {
    const half = await generate('naf-half', 0.1, 7);
    expect((await readFile(join(half.dir, NAF_FILE))).equals(nafBytes)).toBe(true);
  });
});

describe('realistic mess in contracts', () => {
  const titulaires = (): Rec[] => marches.flatMap((m) => recs(m.titulaires));

  it('writes id, codeCPV, dureeMois and titulaire ids sometimes as JSON numbers', () => {
    for (const key of ['id', 'codeCPV', 'dureeMois']) {
      expect(
        marches.some((m) => typeof m[key] === 'number'),
        key,
      ).toBe(true);
      expect(
        marches.some((m) => typeof m[key] === 'string'),
        key,
      ).toBe(true);
    }
    expect(titulaires().some((t) => typeof t.id === 'number')).toBe(true);
  });

  it('loses the leading zero of SIRETs written as numbers', () => {
    const short = titulaires().filter((t) => typeof t.id === 'number' && String(t.id).length === 13);
    expect(short.some((t) => luhnValid(String(t.id).padStart(14, '0')))).toBe(true);
  });

  it('mixes date formats with +HH:MM and -HH:MM offsets and missing dates', () => {
    for (const key of ['dateNotification', 'datePublicationDonnees']) {
      const values = marches.map((m) => m[key]);
      expect(
        values.some((v) => typeof v === 'string' && /^\d{4}-\d\d-\d\d$/.test(v)),
        key,
      ).toBe(true);
      expect(
        values.some((v) => typeof v === 'string' && /^\d{4}-\d\d-\d\d\+\d\d:\d\d$/.test(v)),
        key,
      ).toBe(true);
      expect(
        values.some((v) => typeof v === 'string' && /^\d{4}-\d\d-\d\d-\d\d:\d\d$/.test(v)),
        key,
      ).toBe(true);
      expect(
        marches.some((m) => !(key in m) && m._type === undefined),
        key,
      ).toBe(true);
    }
  });

  it('notifies about a third of contracts outside 2022, from 2017 to 2023', () => {
    const years = marches.map((m) => str(m.dateNotification).slice(0, 4)).filter((y) => y !== '');
    const outside = years.filter((y) => y !== '2022').length / years.length;
    expect(outside).toBeGreaterThan(0.25);
    expect(outside).toBeLessThan(0.42);
    for (const y of ['2017', '2018', '2019', '2020', '2021', '2023']) expect(years, y).toContain(y);
  });

  it('has placeholder, zero, missing, numeric and string amounts', () => {
    const amounts = marches.filter((m) => m._type === undefined).map((m) => m.montant);
    expect(amounts.some((a) => typeof a === 'string' && /^9{5,}(\.\d+)?$/.test(a))).toBe(true);
    expect(amounts.some((a) => typeof a === 'string' && /^\d+\.\d{4}$/.test(a))).toBe(true);
    expect(amounts.some((a) => typeof a === 'string' && /^0(\.0+)?$/.test(a))).toBe(true);
    expect(amounts).toContain(undefined);
    expect(amounts.some((a) => typeof a === 'number')).toBe(true);
  });

  it('has non-SIRET titulaires, SIRETs failing Luhn and typeIdentifiant casing variants', () => {
    const types = new Set(titulaires().map((t) => t.typeIdentifiant));
    for (const t of ['SIRET', 'Siret', 'TVA', 'HORS_UE', 'HORS-UE', 'UE']) expect(types, t).toContain(t);
    expect(titulaires().some((t) => t.typeIdentifiant === 'TVA' && /^FR\d{11}$/.test(str(t.id)))).toBe(true);
    const sirets = titulaires().filter((t) => /^\d{14}$/.test(str(t.id)));
    expect(sirets.some((t) => !luhnValid(str(t.id)))).toBe(true);
    expect(sirets.filter((t) => luhnValid(str(t.id))).length / sirets.length).toBeGreaterThan(0.95);
    expect(titulaires().some((t) => /^SIRET$/i.test(str(t.typeIdentifiant)) && /[A-Z]/.test(str(t.id)))).toBe(
      true,
    );
    expect(titulaires().some((t) => /^\d{3} \d{3} \d{3} \d{5}$/.test(str(t.id)))).toBe(true);
  });

  it('republishes some contracts later in the file with a later publication date', () => {
    const seen = new Map<string, Rec>();
    let republished = 0;
    let laterDate = 0;
    let changedAmount = 0;
    for (const m of marches) {
      if (m._type !== undefined) continue;
      const key = 'uid' in m ? str(m.uid) : `${str(isRec(m.acheteur) ? m.acheteur.id : null)}|${str(m.id)}`;
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, m);
        continue;
      }
      republished++;
      if (str(m.datePublicationDonnees) > str(first.datePublicationDonnees)) laterDate++;
      if (str(m.montant) !== str(first.montant)) changedAmount++;
    }
    expect(republished / marches.length).toBeGreaterThan(0.015);
    expect(republished / marches.length).toBeLessThan(0.05);
    expect(laterDate).toBeGreaterThan(0);
    expect(changedAmount).toBeGreaterThan(0);
  });

  it('has records with empty or missing titulaires, including concessions', () => {
    expect(marches.some((m) => Array.isArray(m.titulaires) && m.titulaires.length === 0)).toBe(true);
    expect(marches.some((m) => !('titulaires' in m) && m._type === undefined)).toBe(true);
    const concessions = marches.filter((m) => m._type === 'Contrat de concession');
    expect(concessions.length).toBeGreaterThan(0);
    for (const c of concessions) {
      expect(c).not.toHaveProperty('montant');
      expect(c).not.toHaveProperty('titulaires');
      expect(recs(c.concessionnaires).length).toBeGreaterThan(0);
      expect(c).toHaveProperty('valeurGlobale');
    }
  });

  it('has names with apostrophes, mojibake, HTML entities, line breaks and stray spaces', () => {
    const names = [
      ...titulaires().map((t) => str(t.denominationSociale)),
      ...marches.map((m) => str(isRec(m.acheteur) ? m.acheteur.nom : null)),
      ...marches.map((m) => str(m.objet)),
    ];
    expect(names.some((n) => /\b[LD]'/.test(n))).toBe(true);
    expect(names.some((n) => n.includes('Ã'))).toBe(true);
    expect(names.some((n) => /&amp;|&#039;/.test(n))).toBe(true);
    expect(names.some((n) => n.includes('\n'))).toBe(true);
    expect(contractsText).toMatch(/"[^"\n]*\\n[^"\n]*"/);
    expect(names.some((n) => n !== n.trim())).toBe(true);
    expect(names.some((n) => n.includes('  '))).toBe(true);
  });
});

describe('realistic mess in establishments', () => {
  const values = (name: string): string[] => estRows.map((r) => r[column(name)] ?? '');

  it('has SIRETs starting with 0 (about 7%), almost all Luhn-valid', () => {
    const sirets = values('siret');
    const zero = sirets.filter((s) => s.startsWith('0')).length / sirets.length;
    expect(zero).toBeGreaterThan(0.05);
    expect(zero).toBeLessThan(0.09);
    expect(sirets.every((s) => /^\d{14}$/.test(s) && luhnValid(s))).toBe(true);
  });

  it('has active and closed establishments, about 70/30', () => {
    const active = values('etatAdministratifEtablissement').filter((v) => v === 'A').length / estRows.length;
    expect(active).toBeGreaterThan(0.65);
    expect(active).toBeLessThan(0.75);
    expect(values('etatAdministratifEtablissement')).toContain('F');
  });

  it('hides addresses and names behind [ND] on partial-diffusion rows', () => {
    const privateRows = estRows.filter((r) => r[column('statutDiffusionEtablissement')] === 'P');
    expect(privateRows.length).toBeGreaterThan(0);
    for (const r of privateRows) {
      expect(r[column('libelleVoieEtablissement')]).toBe('[ND]');
      expect(r[column('enseigne1Etablissement')]).toBe('[ND]');
    }
  });

  it('has creation dates after 2026', () => {
    expect(values('dateCreationEtablissement').some((d) => d > '2026-12-31')).toBe(true);
  });

  it('uses activity codes mostly from the NAF list, some missing from it', () => {
    const naf = new Set(parseCsv(nafBytes.toString('utf8').slice(1), ';').map((r) => r[0]));
    const codes = values('activitePrincipaleEtablissement');
    const missing = codes.filter((c) => !naf.has(c)).length;
    expect(missing).toBeGreaterThan(0);
    expect(missing / codes.length).toBeLessThan(0.02);
    expect(codes.filter((c) => /^\d\d\.\d\d[A-Z]$/.test(c)).length / codes.length).toBeGreaterThan(0.95);
  });

  it('writes etablissementSiege as true/false, employer flag O/N/empty, ISO processing timestamps', () => {
    expect(new Set(values('etablissementSiege'))).toEqual(new Set(['true', 'false']));
    expect(new Set(values('caractereEmployeurEtablissement'))).toEqual(new Set(['O', 'N', '']));
    expect(
      values('dateDernierTraitementEtablissement').every((v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(v)),
    ).toBe(true);
  });

  it('repeats a few SIRETs with a different dateDernierTraitement', () => {
    const bySiret = new Map<string, string[]>();
    for (const r of estRows) {
      const list = bySiret.get(r[2] ?? '') ?? [];
      list.push(r[column('dateDernierTraitementEtablissement')] ?? '');
      bySiret.set(r[2] ?? '', list);
    }
    const repeated = [...bySiret.values()].filter((l) => l.length > 1);
    expect(repeated.length / estRows.length).toBeGreaterThan(0.002);
    expect(repeated.length / estRows.length).toBeLessThan(0.01);
    for (const l of repeated) expect(new Set(l).size).toBe(l.length);
  });

  it('quotes fields holding commas or quotes, and only those', async () => {
    const raw = await readFile(join(dirA, ESTABLISHMENTS_FILE), 'utf8');
    expect(raw).toMatch(/,"[^",]*,[^"]*",/);
    expect(raw).toContain('""');
    expect(values('libelleVoieEtablissement').some((v) => v.includes(','))).toBe(true);
    expect(values('enseigne1Etablissement').some((v) => v.includes(','))).toBe(true);
    const quotedWithoutNeed = raw.match(/(^|,)"[^",\n]*"(?=,|\n)/gm) ?? [];
    expect(quotedWithoutNeed).toEqual([]);
  });
});

describe('realistic mess in the NAF file', () => {
  it('quotes labels holding ";" or a line break', () => {
    const text = nafBytes.toString('utf8');
    expect(text).toMatch(/\n\d\d[.\dA-Z]*;"[^"\n]*;[^"\n]*"\n/);
    expect(text).toMatch(/\n\d\d\.\d\d[A-Z];"[^"]*\n"\n/);
    const rows = parseCsv(text.slice(1), ';');
    expect(rows.every((r) => r.length === 2)).toBe(true);
    expect(rows.some((r) => (r[1] ?? '').includes('\n'))).toBe(true);
  });
});

describe('joins between files', () => {
  it('lets some 2022 contracts find their titulaire among active establishments', () => {
    const active = new Set(
      estRows.filter((r) => r[column('etatAdministratifEtablissement')] === 'A').map((r) => r[2]),
    );
    const sirets = marches
      .filter((m) => str(m.dateNotification).startsWith('2022'))
      .flatMap((m) => recs(m.titulaires))
      .filter((t) => /^siret$/i.test(str(t.typeIdentifiant)) && /^\d{13,14}$/.test(str(t.id)))
      .map((t) => str(t.id).padStart(14, '0'));
    const matched = sirets.filter((s) => active.has(s)).length;
    expect(matched / sirets.length).toBeGreaterThan(0.15);
    expect(matched / sirets.length).toBeLessThan(0.5);
  });
});
