/**
 * How often each kind of contract mess occurs. Rare kinds that would hide each other (a record with
 * no titulaires cannot also have a VAT-number titulaire) share one stratified slot and take turns,
 * so even a 0.2-scale sample holds every kind and counts stay proportional to the size.
 */
import { spreadPattern } from './random.js';

/** Rates of each kind of mess: a probability, or one record in `...Period`. */
export const CONTRACT_RATES = {
  numericSource: 0.33,
  uidInTextSource: 0.75,
  titulaireFromEstablishments: 0.4,
  republished: 0.03,
  republishedAmountChanged: 0.5,
  modified: 0.13,
  strayNameSpaces: 0.12,
  strayBuyerSpaces: 0.03,
  minusOffsetDate: 0.02,
  /** One record in 38 gets one of the RECORD_MESS kinds (so each kind once per ~1,000 x count). */
  recordMessPeriod: 38,
  /** One record in 42 gets one of the AMOUNT_MESS kinds. */
  amountMessPeriod: 42,
  missingNotificationPeriod: 300,
  missingPublicationPeriod: 500,
  siretCasingPeriod: 200,
  mojibakePeriod: 300,
  htmlEntityPeriod: 300,
  newlinePeriod: 300,
} as const;

export type RecordMess =
  | 'concession'
  | 'missingTitulaires'
  | 'emptyTitulaires'
  | 'tva'
  | 'horsUe'
  | 'ue'
  | 'horsUeDash'
  | 'freeTextId'
  | 'badLuhn'
  | 'spacedId';

/** Kinds that change what a record or its first titulaire is; mutually exclusive by construction. */
export const RECORD_MESS = spreadPattern<RecordMess>([
  ['badLuhn', 10],
  ['horsUe', 3],
  ['emptyTitulaires', 3],
  ['spacedId', 3],
  ['tva', 2],
  ['concession', 1],
  ['missingTitulaires', 1],
  ['ue', 1],
  ['horsUeDash', 1],
  ['freeTextId', 1],
]);

export type AmountMess = 'number' | 'placeholder' | 'zero' | 'missing' | 'exponent';

export const AMOUNT_MESS = spreadPattern<AmountMess>([
  ['number', 10],
  ['placeholder', 5],
  ['zero', 4],
  ['missing', 3],
  ['exponent', 2],
]);
