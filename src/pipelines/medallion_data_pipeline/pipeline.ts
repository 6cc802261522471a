import { definePipeline } from '../../index.js';
import {
  activeCompanies,
  summaryByCompanySize,
  summaryByRegion,
  summaryBySector,
  top100Companies,
} from './gold.js';
import { macros, orderedSum } from './macros.js';
import { codesNaf, etablissements, marchesPublics } from './silver.js';
import { etablissementsSource, marchesSource, nafSource } from './sources.js';

/**
 * The seed's pipeline: public-procurement contracts of 2022 joined to the establishments
 * that won them, through landing → bronze → silver → gold.
 */
export default definePipeline({
  name: 'medallion_data_pipeline',
  description: 'French public-procurement contracts joined to company registers',
  sources: [marchesSource, etablissementsSource, nafSource],
  // Where the seed pulled its files from; `--source` points elsewhere.
  defaultSource: 's3://epf-big-data-processing/tp3-4/sources',
  // As the seed's DAG: every 6 hours, no catchup, one retry after 5 minutes.
  schedule: { cron: '0 */6 * * *', startDate: '2025-06-01T00:00:00Z', catchup: false, maxActiveRuns: 1 },
  taskDefaults: { retries: 1, retryDelay: '5m' },
  macros,
  tables: [
    marchesPublics,
    etablissements,
    codesNaf,
    activeCompanies,
    summaryBySector,
    summaryByRegion,
    summaryByCompanySize,
    top100Companies,
  ],
  headline: ({ ref, engine }) => `
    SELECT
      count(*) AS companies,
      coalesce(sum(nombre_contrats), 0) AS contracts,
      coalesce(${orderedSum({ engine }, 'montant_total_contrats')}, 0) AS total_value
    FROM ${ref('gold', 'active_companies_with_contracts_2022')}`,
});
