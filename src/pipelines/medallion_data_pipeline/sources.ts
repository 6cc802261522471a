import type { SourceDefinition } from '../../index.js';

/** The seed's three source files, under its names and in their real formats. */

const text = 'VARCHAR';

export const marchesSource: SourceDefinition = {
  name: 'marches',
  description: 'French public-procurement contracts (DECP), one JSON document per year',
  pattern: 'aws-marchespublics-annee-*.json',
  bronzeTable: 'marches_publics',
  format: {
    type: 'json',
    recordsPath: 'marches',
    fields: {
      id: text,
      uid: text,
      acheteur: { id: text, nom: text },
      nature: text,
      objet: text,
      codeCPV: text,
      procedure: text,
      lieuExecution: { code: text, typeCode: text, nom: text },
      dureeMois: text,
      dateNotification: text,
      datePublicationDonnees: text,
      montant: text,
      formePrix: text,
      titulaires: [{ typeIdentifiant: text, id: text, denominationSociale: text }],
      modifications: [
        {
          objetModification: text,
          dateNotificationModification: text,
          datePublicationDonneesModification: text,
          dureeMois: text,
          montant: text,
        },
      ],
    },
  },
};

export const etablissementsSource: SourceDefinition = {
  name: 'etablissements',
  description: 'SIRENE establishments extract',
  pattern: 'simulated_etablissements_*.csv',
  bronzeTable: 'etablissements',
  format: {
    type: 'csv',
    delimiter: ',',
    requiredColumns: [
      'siren',
      'nic',
      'siret',
      'dateCreationEtablissement',
      'trancheEffectifsEtablissement',
      'dateDernierTraitementEtablissement',
      'etablissementSiege',
      'codePostalEtablissement',
      'libelleCommuneEtablissement',
      'etatAdministratifEtablissement',
      'activitePrincipaleEtablissement',
      'caractereEmployeurEtablissement',
    ],
  },
};

export const nafSource: SourceDefinition = {
  name: 'codes_naf',
  description: 'INSEE NAF rév. 2 activity codes',
  pattern: 'int_courts_naf_rev_2*.csv',
  bronzeTable: 'codes_naf',
  format: {
    type: 'csv',
    delimiter: ';',
    requiredColumns: ['Code', 'Intitulés de la NAF rév. 2, version finale'],
    rename: { Code: 'code', 'Intitulés de la NAF rév. 2, version finale': 'intitule' },
  },
};
