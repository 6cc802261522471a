/**
 * Value vocabularies of DECP contracts with weights taken from the 2022 AWS export, including the
 * upper-case variants ("MARCHE", "CODE DEPARTEMENT") that one publishing platform emits.
 */
import { weighted } from './random.js';

export const pickNature = weighted([
  ['Marché', 4108],
  ['Accord-cadre', 3012],
  ['MARCHE', 826],
  ['ACCORD-CADRE', 653],
  ['Marché subséquent', 335],
  ['MARCHE SUBSEQUENT', 28],
  ['Marché de partenariat', 4],
] as const);

export const pickProcedure = weighted([
  ['Procédure adaptée', 4741],
  ["Appel d'offres ouvert", 3598],
  ['Marché négocié sans publicité ni mise en concurrence préalable', 321],
  ['Procédure avec négociation', 133],
  ["Appel d'offres restreint", 74],
  ['Procédure négociée avec mise en concurrence préalable', 55],
  ['Dialogue compétitif', 23],
  ['Procédure concurrentielle avec négociation', 16],
  ['Procédure négociée ouverte', 6],
] as const);

export const pickFormePrix = weighted([
  ['Révisable', 5165],
  ['Ferme', 2486],
  ['Ferme et actualisable', 1313],
] as const);

export type LieuKind = 'postal' | 'departement' | 'commune' | 'region' | 'pays' | 'arrondissement';

export const pickTypeCode = weighted<readonly [string, LieuKind]>([
  [['Code postal', 'postal'], 5598],
  [['CODE DEPARTEMENT', 'departement'], 1473],
  [['Code département', 'departement'], 1065],
  [['Code commune', 'commune'], 628],
  [['Code région', 'region'], 154],
  [['CODE POSTAL', 'postal'], 23],
  [['Code pays', 'pays'], 20],
  [['Code arrondissement', 'arrondissement'], 6],
  [['CODE COMMUNE', 'commune'], 5],
  [['CODE REGION', 'region'], 2],
]);

export const pickDuree = weighted([
  [48, 2955],
  [12, 1017],
  [36, 573],
  [24, 489],
  [6, 340],
  [1, 228],
  [3, 222],
  [5, 207],
  [4, 206],
  [7, 187],
  [2, 177],
  [8, 173],
  [18, 172],
  [60, 156],
  [15, 141],
  [10, 120],
  [9, 110],
  [0, 40],
  [84, 20],
] as const);

/** Notification years: about a third of a "2022" export was notified in another year. */
export const pickNotificationYear = weighted([
  [2022, 660],
  [2021, 265],
  [2020, 30],
  [2019, 15],
  [2018, 7],
  [2017, 3],
  [2023, 20],
] as const);

/** CPV codes with their check digit; two start with 0 so a numeric codeCPV loses a digit. */
export const CPV_CODES = [
  '45332200-5',
  '79110000-8',
  '14212430-3',
  '34913000-0',
  '45233140-2',
  '90910000-9',
  '72000000-5',
  '30192000-1',
  '09134100-8',
  '03451000-6',
  '45210000-2',
  '45261000-4',
  '45310000-3',
  '50720000-8',
  '55523100-3',
  '60112000-6',
  '66510000-8',
  '71000000-8',
  '77310000-6',
  '79713000-5',
  '80500000-9',
  '33600000-6',
  '39160000-1',
  '42410000-3',
  '71242000-6',
];

export const MODIFICATION_OBJECTS = [
  'Augmentation montant maxi',
  'Prolongation de la durée du marché',
  'Avenant n°1 : travaux supplémentaires',
  "Modification de l'indice de révision",
  'Cession du marché au nouveau titulaire',
];
