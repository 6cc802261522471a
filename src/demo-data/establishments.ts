/**
 * SIRENE establishments. Identity (SIREN, NIC, SIRET, state) is a pure function of (seed, k) so the
 * contract generator can name establishment k as a titulaire without holding the list in memory.
 */
import { csvField } from './csv.js';
import { dayOfYearStart, isoDay, isoSecond } from './dates.js';
import { companyName, ADDRESS_COMPLEMENTS, COMMA_VALUES, QUOTE_VALUES, SIGNS, STREETS } from './names.js';
import { COMMUNES, FOREIGN } from './places.js';
import { COMMON_ACTIVITIES, LEGACY_ACTIVITIES } from './naf.js';
import { Rng, at, hash32, seed32, stratum, unit, weighted } from './random.js';
import { makeSiren, makeSiret } from './siret.js';

export const ESTABLISHMENTS_FILE = 'simulated_etablissements_50000.csv';
export const ESTABLISHMENTS_PER_SCALE = 50_000;

/** The public SIRENE StockEtablissement column list, in file order. */
export const ESTABLISHMENT_HEADER =
  'siren,nic,siret,statutDiffusionEtablissement,dateCreationEtablissement,trancheEffectifsEtablissement,anneeEffectifsEtablissement,activitePrincipaleRegistreMetiersEtablissement,dateDernierTraitementEtablissement,etablissementSiege,nombrePeriodesEtablissement,complementAdresseEtablissement,numeroVoieEtablissement,indiceRepetitionEtablissement,dernierNumeroVoieEtablissement,indiceRepetitionDernierNumeroVoieEtablissement,typeVoieEtablissement,libelleVoieEtablissement,codePostalEtablissement,libelleCommuneEtablissement,libelleCommuneEtrangerEtablissement,distributionSpecialeEtablissement,codeCommuneEtablissement,codeCedexEtablissement,libelleCedexEtablissement,codePaysEtrangerEtablissement,libellePaysEtrangerEtablissement,identifiantAdresseEtablissement,coordonneeLambertAbscisseEtablissement,coordonneeLambertOrdonneeEtablissement,complementAdresse2Etablissement,numeroVoie2Etablissement,indiceRepetition2Etablissement,typeVoie2Etablissement,libelleVoie2Etablissement,codePostal2Etablissement,libelleCommune2Etablissement,libelleCommuneEtranger2Etablissement,distributionSpeciale2Etablissement,codeCommune2Etablissement,codeCedex2Etablissement,libelleCedex2Etablissement,codePaysEtranger2Etablissement,libellePaysEtranger2Etablissement,dateDebut,etatAdministratifEtablissement,enseigne1Etablissement,enseigne2Etablissement,enseigne3Etablissement,denominationUsuelleEtablissement,activitePrincipaleEtablissement,nomenclatureActivitePrincipaleEtablissement,caractereEmployeurEtablissement';

/** Rates of each kind of mess, exported so tests and docs quote the same numbers. */
export const ESTABLISHMENT_RATES = {
  active: 0.7,
  /** Share of establishments that are a secondary site of the previous company. */
  branch: 0.4,
  /** statutDiffusion "P": address and names replaced by [ND]. One row in N. */
  privatePeriod: 160,
  futureCreationPeriod: 500,
  legacyActivityPeriod: 200,
  duplicatePeriod: 200,
  commaPeriod: 300,
  quotePeriod: 1500,
  emptyEmployerPeriod: 1000,
  foreignPeriod: 1000,
} as const;

const SALT = {
  branch: 101,
  firstDigit: 102,
  perm: 103,
  nic: 104,
  state: 105,
  row: 106,
  private: 107,
  future: 108,
  legacy: 109,
  duplicate: 110,
  commaVoie: 111,
  commaSign: 112,
  quote: 113,
  employer: 114,
  foreign: 115,
  commaComplement: 116,
} as const;

/** SIREN first digits: 0 for ~7%, 2 (local authorities) most common, as in buyer/supplier extracts. */
const FIRST_DIGIT_CUMULATIVE = [0.07, 0.12, 0.42, 0.54, 0.64, 0.74, 0.79, 0.87, 0.95, 1];

export interface EstablishmentIdentity {
  siren: string;
  nic: string;
  siret: string;
  active: boolean;
  headquarters: boolean;
}

/** A secondary site belongs to the same company as the establishment before it. */
function companyIndex(s: number, k: number): number {
  let c = k;
  while (c > 0 && unit(s, SALT.branch, c) < ESTABLISHMENT_RATES.branch) c--;
  return c;
}

/**
 * SIREN of company c. The last 7 digits are an affine permutation of c modulo 10^7, so two
 * companies never share a SIREN (up to ten million of them, i.e. scale 200).
 */
function sirenOf(s: number, c: number): string {
  let a = hash32(s, SALT.perm, 0) % 10_000_000;
  while (a % 2 === 0 || a % 5 === 0) a++;
  const b = hash32(s, SALT.perm, 1) % 10_000_000;
  const body = (a * (c % 10_000_000) + b) % 10_000_000;
  const u = unit(s, SALT.firstDigit, c);
  let first = 0;
  while (first < 9 && u >= at(FIRST_DIGIT_CUMULATIVE, first)) first++;
  return makeSiren(`${first}${String(body).padStart(7, '0')}`);
}

export function establishmentIdentity(seed: number, k: number): EstablishmentIdentity {
  const s = seed32(seed);
  const c = companyIndex(s, k);
  const siren = sirenOf(s, c);
  // Head offices get small NICs (00012), secondary sites larger ones that differ within a company.
  const h = hash32(s, SALT.nic, k);
  const nic4 = c === k ? 1 + (h % 40) : 100 + (k - c) * 7 + (h % 7);
  const siret = makeSiret(siren, String(nic4 % 10_000).padStart(4, '0'));
  return {
    siren,
    nic: siret.slice(9),
    siret,
    active: unit(s, SALT.state, k) < ESTABLISHMENT_RATES.active,
    headquarters: c === k ? (h >>> 8) % 20 !== 0 : false,
  };
}

/** SIRET of establishment k: what contracts use to point at a generated establishment. */
export function siretForEstablishment(seed: number, k: number): string {
  return establishmentIdentity(seed, k).siret;
}

export function isEstablishmentActive(seed: number, k: number): boolean {
  return unit(seed32(seed), SALT.state, k) < ESTABLISHMENT_RATES.active;
}

const pickTranche = weighted([
  ['', 55],
  ['01', 12],
  ['02', 8],
  ['03', 6.5],
  ['11', 6],
  ['12', 5],
  ['21', 3],
  ['22', 1.5],
  ['NN', 0.7],
  ['32', 0.6],
  ['00', 0.3],
  ['31', 0.3],
  ['41', 0.25],
  ['42', 0.2],
  ['51', 0.06],
] as const);
const pickStreetType = weighted([
  ['RUE', 46],
  ['', 17],
  ['AVENUE', 9.5],
  ['PLACE', 8],
  ['BOULEVARD', 4],
  ['ROUTE', 3.4],
  ['PL', 2.2],
  ['CHEMIN', 1.3],
  ['ALLEE', 0.9],
  ['RTE', 0.8],
  ['AV', 0.75],
  ['LD', 0.6],
  ['QUAI', 0.5],
  ['IMPASSE', 0.45],
  ['COURS', 0.3],
  ['BD', 0.3],
  ['SQUARE', 0.26],
] as const);
const pickPeriods = weighted([
  ['1', 20],
  ['2', 21],
  ['3', 35],
  ['4', 19],
  ['5', 4],
  ['6', 1],
] as const);

/** Columns that [ND] replaces on statutDiffusion "P" rows (INSEE's partial diffusion). */
const ND_COLUMNS = [
  11, 12, 13, 14, 15, 16, 17, 18, 21, 23, 24, 27, 28, 29, 30, 31, 32, 33, 34, 35, 38, 40, 41, 46, 47, 48, 49,
];
const COLUMN_COUNT = 53;

const DAY_2024_03_01 = dayOfYearStart(2024) + 60;
const DAY_1980 = dayOfYearStart(1980);
const DAY_2008 = dayOfYearStart(2008);

export interface EstablishmentContext {
  seed: number;
  /** seed32(seed), computed once. */
  s: number;
  subclasses: readonly string[];
  /** A processing timestamp shared by many rows, as a bulk INSEE update leaves. */
  batchStamp: string;
}

export function establishmentContext(seed: number, subclasses: readonly string[]): EstablishmentContext {
  const s = seed32(seed);
  const rng = new Rng(hash32(s, SALT.row, -1));
  return {
    seed,
    s,
    subclasses,
    batchStamp: isoSecond((DAY_2024_03_01 + rng.int(30)) * 86_400 + rng.int(86_400)),
  };
}

const pickCommon = weighted(COMMON_ACTIVITIES);

/**
 * CSV line(s) for establishment k, each ending in "\n". Two lines when the row is republished
 * (same SIRET, later dateDernierTraitement), which SIRENE extracts do after a correction.
 */
export function establishmentLines(ctx: EstablishmentContext, k: number): string[] {
  const { s } = ctx;
  const id = establishmentIdentity(ctx.seed, k);
  const rng = new Rng(hash32(s, SALT.row, k));
  const row: string[] = new Array<string>(COLUMN_COUNT).fill('');
  const isPrivate = stratum(s, SALT.private, k, ESTABLISHMENT_RATES.privatePeriod);
  const foreign = stratum(s, SALT.foreign, k, ESTABLISHMENT_RATES.foreignPeriod);

  row[0] = id.siren;
  row[1] = id.nic;
  row[2] = id.siret;
  row[3] = isPrivate ? 'P' : 'O';
  const created = stratum(s, SALT.future, k, ESTABLISHMENT_RATES.futureCreationPeriod)
    ? dayOfYearStart(2027) + rng.int(6 * 365)
    : DAY_1980 + rng.int(45 * 365);
  row[4] = isoDay(created);
  const tranche = pickTranche(rng);
  row[5] = tranche;
  row[6] = tranche === '' ? '' : '2022';
  if (rng.chance(0.01)) row[7] = rng.pick(['4932ZA', '4399CZ', '4321AB', '4322AZ']);
  row[8] = rng.chance(0.15) ? ctx.batchStamp : isoSecond(DAY_2024_03_01 * 86_400 + rng.int(450 * 86_400));
  row[9] = id.headquarters ? 'true' : 'false';
  row[10] = pickPeriods(rng);

  if (stratum(s, SALT.commaComplement, k, ESTABLISHMENT_RATES.commaPeriod)) row[11] = rng.pick(COMMA_VALUES);
  else if (rng.chance(0.32)) row[11] = rng.pick(ADDRESS_COMPLEMENTS);
  if (rng.chance(0.66)) row[12] = String(1 + rng.int(1 + rng.int(200)));
  if (rng.chance(0.025)) row[13] = rng.pick(['B', 'B', 'T', 'A']);
  row[16] = pickStreetType(rng);
  if (stratum(s, SALT.commaVoie, k, ESTABLISHMENT_RATES.commaPeriod)) row[17] = rng.pick(COMMA_VALUES);
  else if (rng.chance(0.94)) row[17] = rng.pick(STREETS);

  if (foreign) {
    const [code, country, city] = rng.pick(FOREIGN);
    row[20] = city;
    row[25] = code;
    row[26] = country;
  } else {
    const commune = rng.pick(COMMUNES);
    row[18] = commune.postal;
    row[19] = commune.name;
    row[22] = commune.insee;
    if (rng.chance(0.79)) row[27] = `${commune.insee}${rng.digits(4)}_B`;
    if (rng.chance(0.75)) {
      row[28] = String(150_000 + rng.next() * 1_050_000);
      row[29] = String(6_050_000 + rng.next() * 1_060_000);
    }
  }

  row[44] = rng.chance(0.6) ? '2008-01-01' : isoDay(Math.max(created, DAY_2008 + rng.int(16 * 365)));
  row[45] = id.active ? 'A' : 'F';
  if (stratum(s, SALT.quote, k, ESTABLISHMENT_RATES.quotePeriod)) row[46] = rng.pick(QUOTE_VALUES);
  else if (stratum(s, SALT.commaSign, k, ESTABLISHMENT_RATES.commaPeriod)) row[46] = rng.pick(COMMA_VALUES);
  else if (rng.chance(0.58)) row[46] = rng.pick(SIGNS);
  if (rng.chance(0.005)) row[47] = rng.pick(['SITE DE TOULOUSE', 'CORSE', 'ANNEXE']);
  if (rng.chance(0.015)) row[49] = companyName(rng);

  if (stratum(s, SALT.legacy, k, ESTABLISHMENT_RATES.legacyActivityPeriod)) {
    const [code, nomenclature] = rng.pick(LEGACY_ACTIVITIES);
    row[50] = code;
    row[51] = nomenclature;
  } else {
    row[50] = rng.chance(0.4) ? pickCommon(rng) : rng.pick(ctx.subclasses);
    row[51] = 'NAFRev2';
  }
  if (!stratum(s, SALT.employer, k, ESTABLISHMENT_RATES.emptyEmployerPeriod)) {
    row[52] = id.active && rng.chance(0.45) ? 'O' : 'N';
  }

  if (isPrivate) for (const i of ND_COLUMNS) row[i] = '[ND]';
  for (const i of [11, 17, 20, 46, 49]) row[i] = csvField(at(row, i), ',');

  const line = `${row.join(',')}\n`;
  if (!stratum(s, SALT.duplicate, k, ESTABLISHMENT_RATES.duplicatePeriod)) return [line];
  row[8] = isoSecond(DAY_2024_03_01 * 86_400 + 460 * 86_400 + rng.int(60 * 86_400));
  return [line, `${row.join(',')}\n`];
}
