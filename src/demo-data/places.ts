/**
 * A small gazetteer: enough communes to give addresses, postal codes and places of execution a
 * realistic spread (départements with a leading zero, overseas ones with 3-digit codes, Paris
 * arrondissements), without shipping a real commune file.
 */

export interface Commune {
  name: string;
  postal: string;
  insee: string;
}

function c(name: string, postal: string, insee: string): Commune {
  return { name, postal, insee };
}

export const COMMUNES: readonly Commune[] = [
  c('PARIS', '75008', '75108'),
  c('PARIS', '75015', '75115'),
  c('PARIS', '75016', '75116'),
  c('PARIS', '75017', '75117'),
  c('PARIS', '75005', '75105'),
  c('MARSEILLE', '13005', '13205'),
  c('MARSEILLE', '13013', '13213'),
  c('LYON', '69003', '69383'),
  c('TOULOUSE', '31000', '31555'),
  c('NICE', '06000', '06088'),
  c('NANTES', '44000', '44109'),
  c('STRASBOURG', '67000', '67482'),
  c('MONTPELLIER', '34000', '34172'),
  c('BORDEAUX', '33000', '33063'),
  c('LILLE', '59000', '59350'),
  c('RENNES', '35000', '35238'),
  c('REIMS', '51100', '51454'),
  c('LE HAVRE', '76600', '76351'),
  c('SAINT-ETIENNE', '42000', '42218'),
  c('TOULON', '83000', '83137'),
  c('GRENOBLE', '38000', '38185'),
  c('DIJON', '21000', '21231'),
  c('ANGERS', '49000', '49007'),
  c('NIMES', '30000', '30189'),
  c('CLERMONT-FERRAND', '63000', '63113'),
  c('LE MANS', '72000', '72181'),
  c('AMIENS', '80000', '80021'),
  c('LIMOGES', '87000', '87085'),
  c('ANNECY', '74000', '74010'),
  c('PERPIGNAN', '66000', '66136'),
  c('BOURG-EN-BRESSE', '01000', '01053'),
  c('LAON', '02000', '02408'),
  c('MOULINS', '03000', '03190'),
  c('DIGNE-LES-BAINS', '04000', '04070'),
  c('GAP', '05000', '05061'),
  c('ANTIBES', '06600', '06004'),
  c('PRIVAS', '07000', '07186'),
  c('CHARLEVILLE-MEZIERES', '08000', '08105'),
  c('FOIX', '09000', '09122'),
  c('AJACCIO', '20000', '2A004'),
  c('BASTIA', '20200', '2B033'),
  c('SAINT-BRIEUC', '22000', '22278'),
  c('QUIMPER', '29000', '29232'),
  c('VANNES', '56000', '56260'),
  c('ANZIN', '59410', '59014'),
  c('HALLUIN', '59250', '59279'),
  c('JOZE', '63350', '63180'),
  c('CASTANET-TOLOSAN', '31320', '31113'),
  c('VILLEPINTE', '93420', '93078'),
  c('RAMBOUILLET', '78120', '78517'),
  c('CHAPAIZE', '71460', '71085'),
  c('GRAVELINES', '59820', '59273'),
  c('SAINT-DENIS', '97400', '97411'),
  c('FORT-DE-FRANCE', '97200', '97209'),
  c('POINTE-A-PITRE', '97110', '97120'),
  c('CAYENNE', '97300', '97302'),
  c('MAMOUDZOU', '97600', '97611'),
];

export const DEPARTEMENTS: Readonly<Record<string, string>> = {
  '01': 'AIN',
  '02': 'AISNE',
  '03': 'ALLIER',
  '06': 'ALPES-MARITIMES',
  '13': 'BOUCHES-DU-RHONE',
  '21': "Côte-d'Or",
  '22': "Côtes-d'Armor",
  '29': 'Finistère',
  '31': 'HAUTE-GARONNE',
  '33': 'Gironde',
  '34': 'Hérault',
  '44': 'LOIRE-ATLANTIQUE',
  '59': 'NORD',
  '63': 'PUY-DE-DOME',
  '67': 'Bas-Rhin',
  '69': 'RHONE',
  '72': 'SARTHE',
  '75': 'Paris',
  '76': 'Seine-Maritime',
  '85': 'VENDEE',
  '93': 'Seine-Saint-Denis',
  '974': 'La Réunion',
};

export const REGIONS: readonly (readonly [string, string])[] = [
  ['11', 'Île-de-France'],
  ['28', 'Normandie'],
  ['32', 'Hauts-de-France'],
  ['44', 'RÉGION GRAND EST'],
  ['53', 'Bretagne'],
  ['75', 'Nouvelle-Aquitaine'],
  ['76', 'Occitanie'],
  ['84', 'Auvergne-Rhône-Alpes'],
  ['93', "Provence-Alpes-Côte d'Azur"],
  ['974', 'GHT Réunion'],
];

export function departementOf(commune: Commune): string {
  return commune.insee.startsWith('97') ? commune.insee.slice(0, 3) : commune.postal.slice(0, 2);
}

/** Title case for the many sources that write "Rambouillet" rather than "RAMBOUILLET". */
export function titleCase(name: string): string {
  return name
    .toLowerCase()
    .replace(/(^|[\s'-])(\p{L})/gu, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}

export const FOREIGN: readonly (readonly [string, string, string])[] = [
  ['99109', 'ALLEMAGNE', 'HAMBOURG'],
  ['99127', 'ITALIE', 'MILAN'],
  ['99350', 'MAROC', '40000 MARRAKECH'],
  ['99131', 'BELGIQUE', 'BRUXELLES'],
  ['99134', 'ESPAGNE', 'BARCELONE'],
];
