import type { SqlContext, TableDefinition } from '../../index.js';
import { orderedAvg, orderedSum } from './macros.js';

/** 2022 contracts per titulaire SIRET, joined to active establishments and their sector. */
export const activeCompanies: TableDefinition = {
  name: 'active_companies_with_contracts_2022',
  layer: 'gold',
  description: 'Active companies that won 2022 contracts, with their totals and categories',
  key: ['siret'],
  expectations: [{ name: 'siret_unique', type: 'unique', columns: ['siret'], action: 'fail' }],
  sql: ({ ref, logicalDate, engine }) => `
    WITH contracts AS (
      SELECT
        titulaire_siret AS siret,
        count(*) AS nombre_contrats,
        ${orderedSum({ engine }, 'montant')} AS montant_total_contrats,
        ${orderedAvg({ engine }, 'montant')} AS montant_moyen_contrat,
        min(date_notification) AS premier_contrat_2022,
        max(date_notification) AS dernier_contrat_2022,
        count(DISTINCT acheteur_id) AS nombre_acheteurs_distincts,
        ${distinctSorted({ engine }, 'nature')} AS types_marches,
        ${distinctSorted({ engine }, 'code_cpv')} AS codes_cpv,
        ${distinctSorted({ engine }, 'lieu_nom')} AS lieux_execution,
        max_by(titulaire_nom, ${engine === 'spark' ? 'struct' : 'row'}(date_notification, date_publication, contract_key, titulaire_id)) AS nom_entreprise
      FROM ${ref('silver', 'marches_publics')}
      WHERE year_notification = 2022 AND titulaire_siret IS NOT NULL
      GROUP BY titulaire_siret
    )
    SELECT
      c.siret, c.nom_entreprise, e.siren, e.denomination_usuelle, e.enseigne,
      c.nombre_contrats, c.montant_total_contrats, c.montant_moyen_contrat,
      c.premier_contrat_2022, c.dernier_contrat_2022, c.nombre_acheteurs_distincts,
      c.types_marches, c.codes_cpv, c.lieux_execution,
      e.date_creation, n.libelle_naf AS secteur_activite, e.activite_principale AS code_naf,
      e.tranche_effectifs, e.est_siege, e.est_employeur, e.numero_voie, e.type_voie, e.libelle_voie,
      e.code_postal, e.libelle_commune, e.code_commune, e.etat_administratif, e.date_debut_activite,
      e.date_dernier_traitement,
      ${engine === 'spark' ? `timestampdiff(YEAR, e.date_creation, ${logicalDate})` : `date_sub('year', e.date_creation, ${logicalDate})`} AS age_entreprise_annees,
      CASE
        WHEN c.nombre_contrats >= 10 THEN 'Gros contractant'
        WHEN c.nombre_contrats >= 5 THEN 'Contractant régulier'
        WHEN c.nombre_contrats >= 2 THEN 'Contractant occasionnel'
        ELSE 'Contractant unique'
      END AS categorie_volume_contrats,
      CASE
        WHEN c.montant_total_contrats >= 1000000 THEN 'Plus de 1M€'
        WHEN c.montant_total_contrats >= 100000 THEN '100K€ - 1M€'
        WHEN c.montant_total_contrats >= 10000 THEN '10K€ - 100K€'
        ELSE 'Moins de 10K€'
      END AS categorie_valeur_contrats
    FROM contracts c
    JOIN ${ref('silver', 'etablissements')} e ON e.siret = c.siret AND e.est_actif
    LEFT JOIN ${ref('silver', 'codes_naf')} n ON n.code_naf = e.activite_principale
    ORDER BY c.siret`,
};

/** The distinct non-null values of a group, sorted. */
function distinctSorted(context: Pick<SqlContext, 'engine'>, column: string): string {
  return context.engine === 'spark'
    ? `array_sort(collect_set(${column}))`
    : `list_sort(list_distinct(list(${column})))`;
}

const companies = (ref: (layer: 'gold', table: string) => string) =>
  ref('gold', 'active_companies_with_contracts_2022');

export const summaryBySector: TableDefinition = {
  name: 'summary_by_sector',
  layer: 'gold',
  key: ['secteur_activite'],
  sql: ({ ref, engine }) => `
    SELECT
      secteur_activite,
      count(*) AS nombre_entreprises,
      sum(nombre_contrats) AS total_contrats,
      ${orderedSum({ engine }, 'montant_total_contrats')} AS valeur_totale,
      ${orderedAvg({ engine }, 'montant_moyen_contrat')} AS montant_moyen_par_secteur
    FROM ${companies(ref)}
    GROUP BY secteur_activite
    ORDER BY valeur_totale DESC NULLS LAST, secteur_activite`,
};

export const summaryByRegion: TableDefinition = {
  name: 'summary_by_region',
  layer: 'gold',
  key: ['region_code'],
  sql: ({ ref, engine }) => `
    SELECT
      left(code_postal, 2) AS region_code,
      count(*) AS nombre_entreprises,
      sum(nombre_contrats) AS total_contrats,
      ${orderedSum({ engine }, 'montant_total_contrats')} AS valeur_totale
    FROM ${companies(ref)}
    GROUP BY region_code
    ORDER BY valeur_totale DESC NULLS LAST, region_code`,
};

export const summaryByCompanySize: TableDefinition = {
  name: 'summary_by_company_size',
  layer: 'gold',
  key: ['tranche_effectifs'],
  sql: ({ ref, engine }) => `
    SELECT
      tranche_effectifs,
      count(*) AS nombre_entreprises,
      sum(nombre_contrats) AS total_contrats,
      ${orderedSum({ engine }, 'montant_total_contrats')} AS valeur_totale,
      avg(age_entreprise_annees) AS age_moyen_entreprises
    FROM ${companies(ref)}
    GROUP BY tranche_effectifs
    ORDER BY valeur_totale DESC NULLS LAST, tranche_effectifs`,
};

export const top100Companies: TableDefinition = {
  name: 'top_100_companies',
  layer: 'gold',
  key: ['siret'],
  expectations: [{ name: 'at_most_100_rows', type: 'row_count', max: 100, action: 'fail' }],
  sql: ({ ref }) => `
    SELECT
      siret, nom_entreprise, secteur_activite, nombre_contrats, montant_total_contrats,
      nombre_acheteurs_distincts, libelle_commune, categorie_volume_contrats, categorie_valeur_contrats
    FROM ${companies(ref)}
    ORDER BY montant_total_contrats DESC NULLS LAST, siret
    LIMIT 100`,
};
