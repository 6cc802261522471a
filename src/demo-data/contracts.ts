/**
 * DECP contracts ("marchés") as the 2022 AWS export holds them. Contract i is a pure function of
 * (seed, i), so a republished copy can be regenerated later in the file instead of being kept.
 *
 * A third of the records come from a source that wrote identifiers as JSON numbers and dates
 * without time zone; the rest use strings and mostly "+01:00"-style dates. That split is the main
 * source of type mess in the real file, so it is modelled per record, not per field.
 */
import { AMOUNT_MESS, CONTRACT_RATES, RECORD_MESS, type RecordMess } from './contract-mess.js';
import { dayOfYearStart, isoDay, monthOf } from './dates.js';
import type { Json, JsonObject } from './json.js';
import { embeddedNewline, htmlEntities, mojibake, straySpaces } from './mess.js';
import { contractObject } from './names.js';
import { buyer, outsider, titulaires } from './parties.js';
import { COMMUNES, DEPARTEMENTS, REGIONS, departementOf, titleCase } from './places.js';
import { Rng, hash32, patterned, seed32, stratum, unit, weighted } from './random.js';
import {
  CPV_CODES,
  MODIFICATION_OBJECTS,
  pickDuree,
  pickFormePrix,
  pickNature,
  pickNotificationYear,
  pickProcedure,
  pickTypeCode,
} from './vocabularies.js';

export const CONTRACTS_FILE = 'aws-marchespublics-annee-2022.json';
export const CONTRACTS_PER_SCALE = 9_000;

const SALT = {
  contract: 201,
  republish: 202,
  recordMess: 206,
  amountMess: 207,
  missingNotif: 209,
  missingPub: 210,
  mojibake: 224,
  html: 225,
  newline: 226,
  republishTweak: 227,
} as const;

function recordMess(ctx: ContractContext, i: number): RecordMess | undefined {
  return patterned(ctx.s, SALT.recordMess, i, CONTRACT_RATES.recordMessPeriod, RECORD_MESS);
}

export interface ContractContext {
  seed: number;
  s: number;
  /** Expected record count; spreads publication dates over the year in file order. */
  total: number;
  establishments: number;
  buyers: number;
  outsiders: number;
}

export function contractContext(
  seed: number,
  scale: number,
  total: number,
  establishments: number,
): ContractContext {
  return {
    seed,
    s: seed32(seed),
    total,
    establishments,
    buyers: Math.max(1, Math.round(1_600 * scale)),
    outsiders: Math.max(1, Math.round(9_000 * scale)),
  };
}

/** Whether contract i is published a second time, and how many records later. */
export function republicationDelay(ctx: ContractContext, i: number): number | undefined {
  if (unit(ctx.s, SALT.republish, i) >= CONTRACT_RATES.republished) return undefined;
  if (recordMess(ctx, i) === 'concession') return undefined;
  return 5 + (hash32(ctx.s, SALT.republishTweak, i) % 300);
}

type DateStyle = 'plain' | 'plus' | 'minus';

const DAY_2022 = dayOfYearStart(2022);
const pickTextDateStyle = weighted<DateStyle>([
  ['plain', 25],
  ['plus', 73],
  ['minus', CONTRACT_RATES.minusOffsetDate * 100],
]);

function formatDate(day: number, style: DateStyle, rng: Rng): string {
  const text = isoDay(day);
  if (style === 'plain') return text;
  if (style === 'plus') {
    const m = monthOf(day);
    return `${text}${m >= 4 && m <= 10 ? '+02:00' : '+01:00'}`;
  }
  // Overseas buyers (Antilles, Guyane, Polynésie) publish with negative offsets.
  return `${text}${rng.pick(['-04:00', '-03:00', '-10:00'])}`;
}

/** Python's repr of a float: "30000.0", "12345.67". */
function pyFloat(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

function contractId(rng: Rng, year: number, numeric: boolean): string {
  if (numeric) return `${year}${rng.digits(rng.between(3, 8))}`;
  switch (rng.int(5)) {
    case 0:
      return `${year}${rng.pick(['AC', 'M', 'FCS', 'MAPA', 'AO', 'F', 'S', 'T'])}${rng.digits(rng.between(4, 6))}`;
    case 1:
      return `${String(year).slice(2)}A${rng.digits(4)}-${rng.digits(4)}`;
    case 2:
      return `${year}-${rng.digits(3)}`;
    case 3:
      return `${year}${rng.pick(['GC', 'MO', 'TX'])}${rng.digits(2)}-${rng.digits(2)} L${rng.between(1, 9)}00`;
    default:
      return `${year}${rng.digits(rng.between(5, 8))}`;
  }
}

function lieuExecution(rng: Rng, numeric: boolean): JsonObject {
  const [typeCode, kind] = pickTypeCode(rng);
  const commune = rng.pick(COMMUNES);
  let code: string;
  let nom: string;
  switch (kind) {
    case 'postal':
      code = commune.postal;
      nom = rng.chance(0.5) ? titleCase(commune.name) : commune.name;
      break;
    case 'commune':
      code = commune.insee;
      nom = commune.name;
      break;
    case 'departement': {
      code = departementOf(commune);
      const name = DEPARTEMENTS[code] ?? commune.name;
      nom = typeCode === 'CODE DEPARTEMENT' ? `(${code}) ${titleCase(name)}` : name.toUpperCase();
      break;
    }
    case 'region': {
      const [regionCode, regionName] = rng.pick(REGIONS);
      code = regionCode;
      nom = regionName;
      break;
    }
    case 'pays':
      code = 'FR';
      nom = 'France';
      break;
    case 'arrondissement':
      code = `${departementOf(commune)}${rng.between(1, 4)}`;
      nom = `Arrondissement de ${titleCase(commune.name)}`;
      break;
  }
  // A numeric source turns "03230" into 3230, as the real export does.
  return { code: numeric && /^\d+$/.test(code) ? Number(code) : code, typeCode, nom };
}

/** A montant as the record's source writes it; undefined when the key is absent. */
function amount(
  ctx: ContractContext,
  i: number,
  value: number,
  numeric: boolean,
  rng: Rng,
): Json | undefined {
  switch (patterned(ctx.s, SALT.amountMess, i, CONTRACT_RATES.amountMessPeriod, AMOUNT_MESS)) {
    case 'missing':
      return undefined;
    case 'placeholder':
      return rng.pick([
        '99999999999.99',
        '99999999999.9900',
        '99999999999.0000',
        '9999999.0000',
        '999999.0000',
      ]);
    case 'zero':
      return rng.pick(['0', '0', '0.0', '0.0000']);
    case 'exponent':
      return `${rng.between(11, 30) / 10}E7`;
    case 'number':
      return value;
    default:
      return numeric ? pyFloat(value) : value.toFixed(4);
  }
}

function baseAmount(rng: Rng): number {
  const raw = Math.exp(Math.log(1_000) + rng.next() * Math.log(5_000));
  return rng.chance(0.6) ? Math.round(raw / 100) * 100 : Math.round(raw * 100) / 100;
}

function modifications(
  rng: Rng,
  notified: number,
  style: DateStyle,
  duree: Json,
  value: number,
): JsonObject[] {
  if (!rng.chance(CONTRACT_RATES.modified)) return [];
  const count = rng.chance(0.6) ? 1 : rng.chance(0.6) ? 2 : rng.between(3, 8);
  const out: JsonObject[] = [];
  let day = notified;
  for (let n = 0; n < count; n++) {
    day += 20 + rng.int(200);
    const mod: JsonObject = {
      objetModification: rng.pick(MODIFICATION_OBJECTS),
      dateNotificationModification: formatDate(day, style, rng),
    };
    if (rng.chance(0.6)) mod.datePublicationDonneesModification = formatDate(day + rng.int(20), style, rng);
    if (rng.chance(0.5)) mod.dureeMois = duree;
    if (rng.chance(0.75)) mod.montant = (value * (1 + 0.05 * (n + 1))).toFixed(4);
    out.push(mod);
  }
  return out;
}

/** Days from January 1st, 2022 at which record i is published: the file runs through the year. */
function publicationDay(ctx: ContractContext, i: number, rng: Rng): number {
  return DAY_2022 + Math.min(360, Math.floor((i / Math.max(1, ctx.total)) * 355) + rng.int(6));
}

function concession(ctx: ContractContext, i: number, rng: Rng): JsonObject {
  const party = outsider(ctx, Math.floor(ctx.outsiders * rng.next()));
  const authority = buyer(ctx, Math.floor(ctx.buyers * rng.next()), false);
  const signed = publicationDay(ctx, i, rng) - rng.int(20);
  return {
    concessionnaires: [{ denominationSociale: party.name, id: Number(party.id), typeIdentifiant: 'SIRET' }],
    procedure: rng.pick(['Procédure négociée restreinte', 'Procédure négociée ouverte']),
    dateDebutExecution: isoDay(signed + 10),
    donneesExecution: [],
    valeurGlobale: pyFloat(Math.round(baseAmount(rng) * 10)),
    lieuExecution: lieuExecution(rng, true),
    modifications: [],
    nature: rng.pick([
      'Concession de service',
      'Délégation de service public',
      'Concession de service public',
    ]),
    codeCPV: Number(rng.pick(CPV_CODES).slice(0, 8)),
    dureeMois: rng.pick([36, 60, 84, 120]),
    montantSubventionPublique: rng.int(200) * 1000,
    datePublicationDonnees: isoDay(signed + rng.int(15)),
    id: `${isoDay(signed).slice(0, 4)}${rng.pick(['DSP', 'FCS', 'CS'])}${rng.digits(6)}`,
    _type: 'Contrat de concession',
    autoriteConcedante: { id: Number(authority.id), nom: authority.name },
    objet: rng.pick([
      'Exploitation et gestion des restaurants',
      'Gestion du service public de l’eau potable',
      'Exploitation du camping municipal',
    ]),
    dateSignature: isoDay(signed),
  };
}

/**
 * Contract i. With `republished`, the same contract published again: identical except a later
 * datePublicationDonnees and, half the time, a revised montant.
 */
export function contractRecord(ctx: ContractContext, i: number, republished = false): JsonObject {
  const { s } = ctx;
  const rng = new Rng(hash32(s, SALT.contract, i));
  const mess = recordMess(ctx, i);
  if (mess === 'concession') return concession(ctx, i, rng);

  const numeric = rng.chance(CONTRACT_RATES.numericSource);
  const style: DateStyle = numeric ? 'plain' : pickTextDateStyle(rng);
  const year = pickNotificationYear(rng);
  let published = publicationDay(ctx, i, rng);
  let notified: number;
  if (year === 2022) notified = Math.max(DAY_2022, published - rng.int(40));
  else if (year === 2023) {
    notified = dayOfYearStart(2023) + rng.int(45);
    published = notified + rng.int(10);
  } else notified = dayOfYearStart(year) + rng.int(365);

  const mojibaked = stratum(s, SALT.mojibake, i, CONTRACT_RATES.mojibakePeriod);
  const party = buyer(ctx, Math.floor(ctx.buyers * rng.next() ** 1.5), mojibaked);
  const numericId = numeric && rng.chance(0.55);
  const id = contractId(rng, year, numericId);
  const withUid = !numeric && rng.chance(CONTRACT_RATES.uidInTextSource);
  let objet = contractObject(rng);
  if (stratum(s, SALT.newline, i, CONTRACT_RATES.newlinePeriod)) objet = embeddedNewline(objet);
  const cpv = rng.pick(CPV_CODES);
  const dureeValue = pickDuree(rng);
  const duree: Json = numeric ? dureeValue : String(dureeValue);
  let value = baseAmount(rng);

  const tweak = new Rng(hash32(s, SALT.republishTweak, i));
  if (republished) {
    published += 10 + tweak.int(110);
    if (tweak.chance(CONTRACT_RATES.republishedAmountChanged))
      value = Math.round(value * (1.05 + tweak.next() * 0.4));
  }

  const record: JsonObject = { id: numericId ? Number(id) : id };
  if (withUid) record.uid = `${party.id}${id}`;
  let nom = mojibaked ? mojibake(party.name) : party.name;
  if (rng.chance(CONTRACT_RATES.strayBuyerSpaces)) nom = straySpaces(rng, nom);
  record.acheteur = { id: numeric ? Number(party.id) : party.id, nom };
  record.nature = pickNature(rng);
  record.objet = objet;
  record.codeCPV = numeric ? Number(cpv.slice(0, 8)) : cpv;
  record.procedure = pickProcedure(rng);
  record.lieuExecution = lieuExecution(rng, numeric);
  record.dureeMois = duree;
  if (!stratum(s, SALT.missingNotif, i, CONTRACT_RATES.missingNotificationPeriod)) {
    record.dateNotification = formatDate(notified, style, rng);
  }
  if (!stratum(s, SALT.missingPub, i, CONTRACT_RATES.missingPublicationPeriod)) {
    record.datePublicationDonnees = formatDate(published, style, rng);
  }
  const montant = amount(ctx, i, value, numeric, rng);
  if (montant !== undefined) record.montant = montant;
  record.formePrix = pickFormePrix(rng);
  const tits = titulaires(ctx, i, rng, numeric, mess);
  if (mess !== 'missingTitulaires') record.titulaires = mess === 'emptyTitulaires' ? [] : tits;
  if (stratum(s, SALT.html, i, CONTRACT_RATES.htmlEntityPeriod)) {
    // Web-form escaping lands on the supplier name, or on the subject when there is no supplier.
    const first = mess === 'emptyTitulaires' || mess === 'missingTitulaires' ? undefined : tits[0];
    if (first !== undefined) first.denominationSociale = htmlEntities(String(first.denominationSociale));
    else record.objet = htmlEntities(objet);
  }
  record.modifications = modifications(rng, notified, style, duree, value);
  return record;
}
