/**
 * Word lists and name builders. Apostrophes (L'..., D'ARMOR) come from the vocabulary itself, at
 * roughly the real rate (about one name in six), because a pipeline that chokes on them fails
 * quietly on a large share of contracts.
 */
import { COMMUNES, DEPARTEMENTS, REGIONS, titleCase, type Commune } from './places.js';
import { Rng, at } from './random.js';

const SURNAMES = [
  'MARTIN',
  'BERNARD',
  'DUBOIS',
  'THOMAS',
  'ROBERT',
  'RICHARD',
  'PETIT',
  'DURAND',
  'LEROY',
  'MOREAU',
  'SIMON',
  'LAURENT',
  'LEFEBVRE',
  'MICHEL',
  'GARCIA',
  'DAVID',
  'BERTRAND',
  'ROUX',
  'VINCENT',
  'FOURNIER',
  'MOREL',
  'GIRARD',
  'ANDRE',
  'MERCIER',
  'DUPONT',
  'LAMBERT',
  'BONNET',
  'FRANCOIS',
  'MARTINEZ',
  'LEGRAND',
  "D'ALMEIDA",
  "N'DIAYE",
  'LE GALL',
  'KERGOAT',
];

const TRADES = [
  'BATIMENT',
  'TRAVAUX PUBLICS',
  'ELECTRICITE',
  'PLOMBERIE',
  'INFORMATIQUE',
  'NETTOYAGE',
  'TRANSPORTS',
  'ESPACES VERTS',
  'RESTAURATION',
  'CONSEIL',
  'INGENIERIE',
  'SIGNALISATION',
  'MENUISERIE',
  'CHAUFFAGE',
  'ASSAINISSEMENT',
  'ENROBES',
  'DEMOLITION',
  'FOURNITURES',
  'CARRIERES',
  'ELAGAGE',
  'CLIMATISATION',
  'TERRASSEMENT',
  'PEINTURE',
  'SERRURERIE',
  'IMPRIMERIE',
  'MOBILIER',
  'SECURITE',
];

const REGIONS_ADJ = [
  "DE L'OUEST",
  "D'ARMOR",
  'DU CENTRE',
  'DE PROVENCE',
  'NORMANDE',
  'DU SUD',
  "DE L'EST",
  'ALPINE',
  'DES FLANDRES',
  "D'AQUITAINE",
  "DE L'ATLANTIQUE",
  'DU LITTORAL',
  'RHODANIENNE',
];

const APOSTROPHE_BRANDS = [
  "L'ENTREPRISE",
  "L'ATELIER",
  "SIT'ESPACES",
  "BIO'MED",
  "L'EURASIENNE",
  "L'ARTISAN",
];

const LEGAL = ['SAS', 'SARL', 'SA', 'EURL', 'SASU'];

/** A company name; the same (rng state) always yields the same name. */
export function companyName(rng: Rng): string {
  switch (rng.int(7)) {
    case 0:
      return `${rng.pick(SURNAMES)} ${rng.pick(TRADES)}`;
    case 1:
      return `ETS ${rng.pick(SURNAMES)} ET FILS`;
    case 2:
      return `${rng.pick(TRADES)} ${rng.pick(REGIONS_ADJ)}`;
    case 3:
      return `${rng.pick(APOSTROPHE_BRANDS)} ${rng.pick(TRADES)}`;
    case 4:
      return `${rng.pick(SURNAMES)} ${rng.pick(SURNAMES)} ET ASSOCIES`;
    case 5:
      return `${rng.pick(SURNAMES)} ${rng.pick(LEGAL)}`;
    default:
      return `STE ${rng.pick(TRADES)} ${rng.pick(SURNAMES)}`;
  }
}

/** A foreign supplier, for titulaires identified by VAT number or as outside the EU. */
export function foreignCompanyName(rng: Rng): string {
  const names = [
    'W.L. GORE ET ASSOCIATES GMBH',
    'ATLAS INSTRUMENTS GMBH',
    'NOLDUS IT',
    'GEOS INGENIEURS CONSEILS SA',
    'INNOVATIVE INTERFACES INC',
    'SIPLET SPRL',
    'TURFGRASS AGRONOMY SERVICES',
    'XTRAICE SL',
  ];
  return rng.pick(names);
}

const BUYER_TEMPLATES: readonly ((cm: Commune, rng: Rng) => string)[] = [
  (cm) => `COMMUNE DE ${cm.name}`,
  (cm) => `Ville de ${titleCase(cm.name)}`,
  (cm) => `MAIRIE DE ${cm.name}`,
  (cm) => `CENTRE HOSPITALIER DE ${cm.name}`,
  (cm) => `Communauté d'agglomération de ${titleCase(cm.name)}`,
  (cm) => `SIAEP DE ${cm.name}`,
  (cm) => `CCAS DE ${cm.name}`,
  (cm) => `CHAMBRE DE COMMERCE ET D'INDUSTRIE DE ${cm.name}`,
  (cm) => `OFFICE PUBLIC DE L'HABITAT DE ${cm.name}`,
  (cm) => `Université de ${titleCase(cm.name)}`,
  (cm, rng) => `SYNDICAT INTERCOMMUNAL ${rng.pick(['DES EAUX', "D'ELECTRICITE", 'SCOLAIRE'])} DE ${cm.name}`,
  (cm, rng) => `Lycée ${rng.pick(['Victor Hugo', "Jeanne d'Arc", 'Jules Ferry'])} de ${titleCase(cm.name)}`,
];

/** A buyer name; `accented` forces one with non-ASCII letters (needed for the mojibake mess). */
export function buyerName(rng: Rng, accented = false): string {
  if (accented || rng.chance(0.08)) {
    const dept = rng.pick(Object.values(DEPARTEMENTS));
    const region = rng.pick(REGIONS)[1];
    return rng.pick([
      `Conseil Départemental ${dept}`,
      `Région ${region}`,
      `Communauté de communes du Pays de ${titleCase(rng.pick(COMMUNES).name)}`,
      `Établissement public foncier ${dept}`,
    ]);
  }
  return at(BUYER_TEMPLATES, rng.int(BUYER_TEMPLATES.length))(rng.pick(COMMUNES), rng);
}

const WORKS = [
  'Travaux de réfection de voirie',
  "Travaux d'aménagement du centre bourg",
  "Fourniture de produits d'entretien",
  'Maintenance des installations de chauffage',
  'Prestations de nettoyage des locaux',
  'Fourniture et livraison de repas',
  'Location et maintenance de photocopieurs',
  "Mission de maîtrise d'œuvre pour la rénovation de l'école",
  'Acquisition de matériel informatique',
  'Entretien des espaces verts',
  'Transport scolaire',
  'Fourniture de carburants',
  'Services juridiques en droit des collectivités territoriales',
  'Fourniture et transport de gravillons',
  'Assurance dommages aux biens et risques annexes',
  'Travaux de couverture et charpente',
  'Contrôle technique et coordination SPS',
  'Fourniture de pièces détachées',
];

const LOT_NAMES = [
  'Gros œuvre',
  'Électricité',
  'Plomberie - chauffage',
  'Menuiseries extérieures',
  'Peinture',
  'VRD',
];

/** A contract subject, sometimes with a lot number as real buyers write them. */
export function contractObject(rng: Rng): string {
  const base = rng.pick(WORKS);
  const r = rng.next();
  if (r < 0.25) return `${base} - Lot ${rng.between(1, 12)} : ${rng.pick(LOT_NAMES)}`;
  if (r < 0.35) return base.toUpperCase();
  if (r < 0.45) return `Lot n° ${rng.between(1, 9)} : ${base}`;
  return base;
}

export const STREETS = [
  'DE LA MAIRIE',
  "DE L'EGLISE",
  'DU GENERAL DE GAULLE',
  'JEAN JAURES',
  'VICTOR HUGO',
  'DES ECOLES',
  'DE LA REPUBLIQUE',
  'PASTEUR',
  'DE LA GARE',
  'DU MOULIN',
  'LE BOURG',
  'DES TILLEULS',
  "D'ARMOR",
  'DE PARIS',
  'NATIONALE',
  'DES CHAMPS',
  'DU STADE',
  'DE LA PAIX',
  'FOCH',
  'GAMBETTA',
  'DU 8 MAI 1945',
  "DE L'INDUSTRIE",
  'DES ARTISANS',
  'SOUFFLOT',
  'DU PRE DIDIER',
  'DE TOULOUSE',
];

export const ADDRESS_COMPLEMENTS = [
  'MAIRIE',
  'HOTEL DE VILLE',
  'BATIMENT A',
  'ZONE ARTISANALE',
  'ZI DES PRES',
  'RESIDENCE LES PINS',
  'CENTRE COMMERCIAL',
  "PARC D'ACTIVITES",
];

export const SIGNS = [
  'MAIRIE',
  'CCAS',
  'ECOLE PRIMAIRE PUBLIQUE',
  'ECOLE MATERNELLE PUBLIQUE',
  'COLLEGE',
  'CDE',
  'BOULANGERIE',
  'GARAGE DU CENTRE',
  "L'ATELIER",
  'PHARMACIE DE LA GARE',
  'CAFE DES SPORTS',
  'SALLE DES FETES',
  'COMMISSARIAT',
  'AGENCE',
  "RESTAURANT L'ESCALE",
];

/** Text for comma mess: values that must be quoted in CSV. */
export const COMMA_VALUES = [
  '2, ROUTE DE NARBONNE',
  'PK 7,5',
  'CARSYSTEM, YACHTCARE',
  'BATIMENT B, 2EME ETAGE',
  'ZA DES PINS, LOT 4',
];

/** Text for quote mess: values whose inner quotes must be doubled in CSV. */
export const QUOTE_VALUES = ['LE "PETIT" CAFE', 'RESIDENCE "LES PINS"', 'BAR "CHEZ NOUS"'];

/** Picks from a list by index with wrap-around, for callers that already hold a random integer. */
export function nth<T>(items: readonly T[], n: number): T {
  return at(items, n % items.length);
}
