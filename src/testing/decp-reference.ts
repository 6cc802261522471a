import { readFileSync } from 'node:fs';

/**
 * An independent, plain-JavaScript reading of the example pipeline's business rules, written from
 * the rules' text rather than from the SQL, for tests to compare medallion's tables against.
 * Only for small files: it parses everything in memory.
 */

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function text(value: Json | undefined): string | null {
  if (value === undefined || value === null) return null;
  const trimmed = String(value).trim();
  return trimmed === '' ? null : trimmed;
}

function day(value: Json | undefined): string | null {
  const candidate = text(value)?.slice(0, 10) ?? null;
  if (!candidate || !/^\d{4}-\d{2}-\d{2}$/.test(candidate)) return null;
  const date = new Date(`${candidate}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === candidate ? candidate : null;
}

function digitsSum(siret: string): number {
  return [...siret].reduce((sum, digit) => sum + Number(digit), 0);
}

/** La Poste's head office: its SIREN's establishments are checked by digit sum, it by Luhn. */
const LA_POSTE_HEAD_OFFICE = '35600000000048';

export function validSiret(siret: string): boolean {
  if (siret.startsWith('356000000') && siret !== LA_POSTE_HEAD_OFFICE) return digitsSum(siret) % 5 === 0;
  let sum = 0;
  for (let i = 0; i < 14; i++) {
    let digit = Number(siret[13 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

function asSiret(type: string | null, id: string): string | null {
  if (type?.toUpperCase() !== 'SIRET' || !/^\d{1,14}$/.test(id)) return null;
  const padded = id.padStart(14, '0');
  return validSiret(padded) ? padded : null;
}

function amount(value: Json | undefined): number | null {
  const raw = text(value);
  if (raw === null) return null;
  const parsed = Number(raw);
  return Number.isFinite(parsed) ? parsed : null;
}

export interface ReferenceContractRow {
  contractKey: string;
  titulaireId: string;
  titulaireSiret: string | null;
  dateNotification: string | null;
  montant: number | null;
  acheteurId: string | null;
}

export interface ReferenceContracts {
  records: number;
  deduplicated: number;
  noTitulaire: number;
  rows: ReferenceContractRow[];
}

export function referenceContracts(file: string): ReferenceContracts {
  const records = (JSON.parse(readFileSync(file, 'utf8')) as { marches: { [key: string]: Json }[] }).marches;
  const winners = new Map<string, { index: number; published: string | null }>();
  records.forEach((record, index) => {
    const acheteur = record.acheteur as { [key: string]: Json } | null | undefined;
    const uid = text(record.uid);
    const buyer = text(acheteur?.id);
    const id = text(record.id);
    const key = uid ?? (buyer !== null || id !== null ? `${buyer ?? ''}${id ?? ''}` : `record:${index}`);
    const published = day(record.datePublicationDonnees);
    const current = winners.get(key);
    // Latest publication day wins (a missing one loses); on a tie the later record wins.
    if (!current || (published ?? '') >= (current.published ?? '')) winners.set(key, { index, published });
  });
  const result: ReferenceContracts = {
    records: records.length,
    deduplicated: records.length - winners.size,
    noTitulaire: 0,
    rows: [],
  };
  for (const [contractKey, { index }] of winners) {
    const record = records[index] ?? {};
    const titulaires = Array.isArray(record.titulaires)
      ? (record.titulaires as { [key: string]: Json }[])
      : [];
    const seen = new Set<string>();
    for (const titulaire of titulaires) {
      const id =
        titulaire.id === null || titulaire.id === undefined ? '' : String(titulaire.id).replace(/\s+/g, '');
      if (id === '' || seen.has(id)) continue;
      seen.add(id);
      result.rows.push({
        contractKey,
        titulaireId: id,
        titulaireSiret: asSiret(text(titulaire.typeIdentifiant), id),
        dateNotification: day(record.dateNotification),
        montant: amount(record.montant),
        acheteurId: text((record.acheteur as { [key: string]: Json } | undefined)?.id),
      });
    }
    if (seen.size === 0) result.noTitulaire++;
  }
  return result;
}

/** A quote-aware CSV parser for small test files. */
export function parseCsv(content: string, delimiter = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < content.length; i++) {
    const char = content[i];
    if (quoted) {
      if (char === '"' && content[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === delimiter) {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && content[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += char;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

/** Active establishments' SIRETs after deduplication on SIRET (latest treatment wins). */
export function referenceActiveSirets(file: string): Set<string> {
  const [header, ...rows] = parseCsv(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  const column = (name: string) => header?.indexOf(name) ?? -1;
  const [siretAt, stateAt, treatedAt] = [
    column('siret'),
    column('etatAdministratifEtablissement'),
    column('dateDernierTraitementEtablissement'),
  ];
  const latest = new Map<string, { treated: string; active: boolean }>();
  for (const row of rows) {
    const raw = row[siretAt]?.trim() ?? '';
    if (!/^\d{1,14}$/.test(raw)) continue;
    const siret = raw.padStart(14, '0');
    const treated = row[treatedAt]?.trim() ?? '';
    const current = latest.get(siret);
    if (!current || treated >= current.treated)
      latest.set(siret, { treated, active: row[stateAt]?.trim() === 'A' });
  }
  return new Set([...latest].filter(([, value]) => value.active).map(([siret]) => siret));
}

export interface ReferenceHeadline {
  companies: number;
  contracts: number;
  totalValue: number;
}

export function referenceHeadline(
  contracts: ReferenceContracts,
  activeSirets: Set<string>,
): ReferenceHeadline {
  const companies = new Set<string>();
  let rows = 0;
  let total = 0;
  for (const row of contracts.rows) {
    if (
      !row.titulaireSiret ||
      !row.dateNotification?.startsWith('2022') ||
      !activeSirets.has(row.titulaireSiret)
    )
      continue;
    companies.add(row.titulaireSiret);
    rows++;
    total += row.montant ?? 0;
  }
  return { companies: companies.size, contracts: rows, totalValue: total };
}
