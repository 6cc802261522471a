import type { TableDefinition } from '../../index.js';
import { cleanTextInLambda } from './macros.js';

/** One row per (contract, titulaire): typed, trimmed, deduplicated on the contract key. */
export const marchesPublics: TableDefinition = {
  name: 'marches_publics',
  layer: 'silver',
  description: 'Contracts per titulaire, typed and deduplicated (latest publication wins)',
  key: ['contract_key', 'titulaire_id'],
  incremental: true,
  expectations: [
    {
      name: 'titulaire_siret_valid',
      description:
        'a titulaire identified by SIRET has a valid one: Luhn, or a digit sum multiple of 5 for La Poste (not its head office)',
      type: 'sql',
      predicate: () => "upper(titulaire_type_id) IS DISTINCT FROM 'SIRET' OR titulaire_siret IS NOT NULL",
      action: 'warn',
    },
    { name: 'montant_not_negative', type: 'between', column: 'montant', min: 0, action: 'quarantine' },
    {
      name: 'montant_not_placeholder',
      description: 'amounts of a billion euros or more are placeholders such as 99999999999.99',
      type: 'sql',
      predicate: () => 'montant IS NULL OR montant < 1e9',
      action: 'warn',
    },
    { name: 'notification_date_parsed', type: 'not_null', column: 'date_notification', action: 'warn' },
  ],
  partitionBy: ['year_notification', 'month_notification'],
  sql: ({ ref, engine }) => `
    SELECT
      _source_checksum || ':' || _row_number AS record_id,
      clean_text(id) AS marche_id,
      clean_text(uid) AS marche_uid,
      clean_text(acheteur.id) AS acheteur_id,
      coalesce(
        marche_uid,
        CASE WHEN acheteur_id IS NOT NULL OR marche_id IS NOT NULL
          THEN coalesce(acheteur_id, '') || coalesce(marche_id, '') END,
        'record:' || record_id) AS contract_key,
      clean_text(acheteur.nom) AS acheteur_nom,
      clean_text(nature) AS nature,
      clean_text(objet) AS objet,
      clean_text(codeCPV) AS code_cpv,
      clean_text(procedure) AS procedure,
      clean_text(lieuExecution.code) AS lieu_code,
      clean_text(lieuExecution.nom) AS lieu_nom,
      as_integer(dureeMois) AS duree_mois,
      day_of(dateNotification) AS date_notification,
      day_of(datePublicationDonnees) AS date_publication,
      as_amount(montant) AS montant,
      clean_text(formePrix) AS forme_prix,
      ${
        engine === 'spark'
          ? `filter(
        transform(titulaires, (t, position) -> named_struct(
          'type_id', ${cleanTextInLambda({ engine }, 't.typeIdentifiant')},
          'id', nullif(regexp_replace(t.id, '\\\\s+', ''), ''),
          'nom', ${cleanTextInLambda({ engine }, 't.denominationSociale')},
          'position', position + 1)),
        t -> t.id IS NOT NULL)`
          : `list_filter(
        list_transform(titulaires, lambda t, position: {
          'type_id': clean_text(t.typeIdentifiant),
          'id': nullif(regexp_replace(t.id, '\\s+', '', 'g'), ''),
          'nom': clean_text(t.denominationSociale),
          'position': position}),
        lambda t: t.id IS NOT NULL)`
      } AS titulaires_with_id,
      coalesce(${engine === 'spark' ? 'size' : 'len'}(titulaires_with_id), 0) AS titulaires_count,
      _ingested_at,
      _row_number
    FROM ${ref('bronze', 'marches_publics')}`,
  refine: {
    input: { layer: 'bronze', table: 'marches_publics' },
    recordId: 'record_id',
    // Republished records share a key: the latest publication day wins, then the last one in the file.
    dedupe: {
      key: 'contract_key',
      orderBy: 'date_publication DESC NULLS LAST, _ingested_at DESC, _row_number DESC, record_id DESC',
    },
    quarantine: [{ reason: 'no_titulaire', when: 'titulaires_count = 0' }],
    shape: (records, { engine }) => `
      SELECT
        record_id, marche_id, marche_uid, contract_key, acheteur_id, acheteur_nom, nature, objet, code_cpv,
        procedure, lieu_code, lieu_nom, duree_mois, date_notification, date_publication, montant, forme_prix,
        titulaire.type_id AS titulaire_type_id,
        titulaire.id AS titulaire_id,
        CASE WHEN upper(titulaire.type_id) = 'SIRET' THEN as_siret(titulaire.id) END AS titulaire_siret,
        titulaire.nom AS titulaire_nom,
        CAST(year(date_notification) AS INTEGER) AS year_notification,
        CAST(month(date_notification) AS INTEGER) AS month_notification
      FROM (SELECT *, ${engine === 'spark' ? 'explode' : 'unnest'}(titulaires_with_id) AS titulaire FROM ${records})
      -- A titulaire listed twice on one contract is one row.
      QUALIFY row_number() OVER (PARTITION BY contract_key, titulaire.id ORDER BY titulaire.position) = 1`,
  },
};

/** Establishments with snake_case columns, typed, one row per SIRET (latest treatment wins). */
export const etablissements: TableDefinition = {
  name: 'etablissements',
  layer: 'silver',
  description: 'SIRENE establishments, typed, one row per SIRET',
  key: ['siret'],
  incremental: true,
  expectations: [
    { name: 'siret_unique', type: 'unique', columns: ['siret'], action: 'fail' },
    {
      name: 'active_naf_known',
      description: 'an active establishment has a NAF code the NAF table knows',
      type: 'sql',
      predicate: ({ ref }) =>
        `NOT est_actif OR activite_principale IS NULL OR activite_principale IN (SELECT code_naf FROM ${ref('silver', 'codes_naf')})`,
      action: 'warn',
    },
  ],
  partitionBy: ['etat_administratif'],
  sql: ({ ref }) => `
    SELECT
      _source_checksum || ':' || _row_number AS record_id,
      CASE WHEN regexp_full_match(clean_text(siren), '[0-9]{1,9}') THEN lpad(clean_text(siren), 9, '0') END AS siren,
      CASE WHEN regexp_full_match(clean_text(nic), '[0-9]{1,5}') THEN lpad(clean_text(nic), 5, '0') END AS nic,
      CASE WHEN regexp_full_match(clean_text(siret), '[0-9]{1,14}') THEN lpad(clean_text(siret), 14, '0') END AS siret,
      clean_text(statutDiffusionEtablissement) AS statut_diffusion,
      day_of(dateCreationEtablissement) AS date_creation,
      clean_text(trancheEffectifsEtablissement) AS tranche_effectifs,
      as_integer(anneeEffectifsEtablissement) AS annee_effectifs,
      try_cast(clean_text(dateDernierTraitementEtablissement) AS TIMESTAMP) AS date_dernier_traitement,
      CASE lower(clean_text(etablissementSiege)) WHEN 'true' THEN true WHEN 'false' THEN false END AS est_siege,
      clean_text(numeroVoieEtablissement) AS numero_voie,
      clean_text(typeVoieEtablissement) AS type_voie,
      clean_text(libelleVoieEtablissement) AS libelle_voie,
      clean_text(codePostalEtablissement) AS code_postal,
      clean_text(libelleCommuneEtablissement) AS libelle_commune,
      clean_text(codeCommuneEtablissement) AS code_commune,
      day_of(dateDebut) AS date_debut_activite,
      clean_text(etatAdministratifEtablissement) AS etat_administratif,
      clean_text(enseigne1Etablissement) AS enseigne,
      clean_text(denominationUsuelleEtablissement) AS denomination_usuelle,
      clean_text(activitePrincipaleEtablissement) AS activite_principale,
      clean_text(nomenclatureActivitePrincipaleEtablissement) AS nomenclature_activite,
      CASE upper(clean_text(caractereEmployeurEtablissement)) WHEN 'O' THEN true WHEN 'N' THEN false END AS est_employeur,
      coalesce(etat_administratif = 'A', false) AS est_actif,
      _ingested_at,
      _row_number
    FROM ${ref('bronze', 'etablissements')}`,
  refine: {
    input: { layer: 'bronze', table: 'etablissements' },
    recordId: 'record_id',
    dedupe: {
      key: 'siret',
      orderBy: 'date_dernier_traitement DESC NULLS LAST, _ingested_at DESC, _row_number DESC, record_id DESC',
    },
    quarantine: [{ reason: 'invalid_siret', when: 'siret IS NULL' }],
    shape: (records) => `
      SELECT
        record_id, siren, nic, siret, statut_diffusion, date_creation, tranche_effectifs, annee_effectifs,
        date_dernier_traitement, est_siege, numero_voie, type_voie, libelle_voie, code_postal, libelle_commune,
        code_commune, date_debut_activite, etat_administratif, enseigne, denomination_usuelle, activite_principale,
        nomenclature_activite, est_employeur, est_actif
      FROM ${records}`,
  },
};

/** NAF codes at every level with their labels; section rows are set aside. */
export const codesNaf: TableDefinition = {
  name: 'codes_naf',
  layer: 'silver',
  description: 'NAF rév. 2 codes and labels',
  key: ['code_naf'],
  incremental: true,
  sql: ({ ref }) => `
    SELECT
      _source_checksum || ':' || _row_number AS record_id,
      clean_text(code) AS code_naf,
      trim_text(intitule) AS libelle_naf,
      _ingested_at,
      _row_number
    FROM ${ref('bronze', 'codes_naf')}`,
  refine: {
    input: { layer: 'bronze', table: 'codes_naf' },
    recordId: 'record_id',
    dedupe: { key: 'code_naf', orderBy: '_ingested_at DESC, _row_number, record_id' },
    quarantine: [
      { reason: 'missing_code', when: 'code_naf IS NULL' },
      { reason: 'section_row', when: "upper(code_naf) LIKE 'SECTION %'" },
    ],
    shape: (records) => `SELECT record_id, code_naf, libelle_naf FROM ${records}`,
  },
};
