/** The project `medallion init` writes: a small shop-orders pipeline, nothing procurement-specific. */

export const PIPELINE_MODULE = `// @ts-check
// A medallion pipeline: sources land as bronze tables; silver and gold tables are SQL over them.
// Run it from this directory: medallion run (medallion.config.json binds it to ./source and ./lake)

/** @type {import('medallion').PipelineDefinition} */
export default {
  name: 'shop_orders',
  description: 'Orders from CSV exports, cleaned and summed per day',
  sources: [
    {
      name: 'orders',
      pattern: 'orders-*.csv',
      bronzeTable: 'orders',
      format: { type: 'csv', delimiter: ',', requiredColumns: ['order_id', 'ordered_at', 'customer', 'amount'] },
    },
  ],
  tables: [
    {
      name: 'orders',
      layer: 'silver',
      key: ['order_id'],
      // One row per bronze row, with a record id; rules below decide what reaches the table.
      sql: ({ ref }) => \`
        SELECT
          _source_checksum || ':' || _row_number AS record_id,
          trim(order_id) AS order_id,
          try_cast(trim(ordered_at) AS TIMESTAMP) AS ordered_at,
          nullif(trim(customer), '') AS customer,
          try_cast(trim(amount) AS DOUBLE) AS amount,
          _ingested_at,
          _row_number
        FROM \${ref('bronze', 'orders')}\`,
      refine: {
        input: { layer: 'bronze', table: 'orders' },
        recordId: 'record_id',
        // An order exported twice keeps its latest copy.
        dedupe: { key: 'order_id', orderBy: '_ingested_at DESC, _row_number DESC' },
        quarantine: [
          { reason: 'missing_order_id', when: "order_id IS NULL OR order_id = ''" },
          { reason: 'bad_amount', when: 'amount IS NULL OR amount < 0' },
          { reason: 'bad_date', when: 'ordered_at IS NULL' },
        ],
        shape: (records) => \`SELECT record_id, order_id, ordered_at, customer, amount FROM \${records}\`,
      },
    },
    {
      name: 'daily_revenue',
      layer: 'gold',
      key: ['day'],
      sql: ({ ref }) => \`
        SELECT ordered_at::DATE AS day, count(*) AS orders, sum(amount) AS revenue
        FROM \${ref('silver', 'orders')}
        GROUP BY day ORDER BY day\`,
    },
  ],
  headline: ({ ref }) => \`SELECT count(*) AS days, sum(orders) AS orders, sum(revenue) AS revenue FROM \${ref('gold', 'daily_revenue')}\`,
};
`;

export const ORDERS_CSV = `order_id,ordered_at,customer,amount
A-1001,2024-01-02 09:15:00,Ada,120.50
A-1002,2024-01-02 11:40:00,Grace,35.00
A-1003,2024-01-03 16:05:00,Linus,-4.00
A-1002,2024-01-02 11:40:00,Grace,36.00
A-1004,not a date,Barbara,12.00
A-1005,2024-01-04 08:00:00,,99.99
`;

/** The project file: the pipeline, where it reads and writes, and where its run history is kept. */
export const PROJECT_FILE = `${JSON.stringify(
  {
    database: 'sqlite:.medallion/metadata.db',
    source: 'source',
    lake: 'lake',
    pipelines: { shop_orders: { module: 'pipeline.mjs' } },
  },
  null,
  2,
)}
`;

export const PROJECT_README = `# shop_orders — a medallion pipeline

- \`medallion.config.json\` is the project file: it names the pipeline module, where its source files are, where
  its lake is, and where run history is kept. Every \`medallion\` command run in this directory (or below) uses it.
- \`pipeline.mjs\` declares the source files, the silver and gold tables (SQL run by DuckDB) and the rules
  (deduplication, quarantine) that keep every input row accounted for.
- \`source/\` holds the input files; add \`orders-*.csv\` files and run again: only new files are ingested.

Run it, then look at what happened:

    medallion run
    medallion runs
    medallion tasks RUN_ID

The tables are Delta Lake tables under \`lake/bronze\`, \`lake/silver\`, \`lake/gold\`; rejected rows are in
\`lake/quarantine\`, each with its reason.
`;
