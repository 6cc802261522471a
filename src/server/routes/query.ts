/**
 * POST /api/query: one read-only SELECT over a lake's tables, named layer.table, at their current versions or as
 * of a time (src/app/query.ts, as `medallion query` runs it), its first rows as JSON. Any signed-in role may ask:
 * what would write, attach, install, change settings or read files is refused before it runs (400), and a query
 * running longer than the time limit is stopped (400).
 */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { LakeReader } from '../../app/lake-reader.js';
import { queryRows } from '../../app/query.js';
import { findLake, TABLE_LAYERS } from '../../app/tables.js';
import { contextOf, type ApiDeps, type ApiEnv } from '../env.js';
import { ERRORS, json, jsonBody, NOT_FOUND, route } from '../route.js';
import { InstantSchema, toInstant } from '../schemas.js';
import { lakeReaderFor } from './lake.js';

/** Rows an answer carries at most: the API shows a result, it does not export one. */
export const MAX_QUERY_ROWS = 1000;

/** How long a query may run before it is stopped and refused: one caller cannot hold the server's engine. */
export const QUERY_TIME_LIMIT_MS = 30_000;

const QueryBody = z.object({
  sql: z
    .string()
    .min(1)
    .max(100_000)
    .openapi({ example: 'SELECT * FROM gold.top_100_companies ORDER BY montant_total_contrats DESC' }),
  lake: z.string().min(1).max(2048).optional().openapi({
    description: 'the lake, by its index or location as GET /api/lakes gives them; default: the first',
  }),
  asOf: InstantSchema.optional().openapi({
    description: 'read each table as it was then: its latest version committed at or before this time',
  }),
  limit: z.number().int().min(1).max(MAX_QUERY_ROWS).default(100).openapi({ description: 'rows returned' }),
});

const QueryResultSchema = z
  .object({
    columns: z.array(z.object({ name: z.string(), type: z.string() })),
    rows: z.array(z.array(z.unknown())).openapi({ description: "each row's values in the columns' order" }),
    total: z.number().openapi({ description: 'rows the query returned, of which `rows` are the first' }),
    tables: z.array(
      z.object({
        layer: z.enum(TABLE_LAYERS),
        table: z.string(),
        version: z.number().int(),
        committedAt: z.string(),
      }),
    ),
  })
  .openapi('QueryResult');

const query = route('read', {
  method: 'post',
  path: '/api/query',
  summary:
    'One read-only SELECT over the lake’s tables (layer.table): its first rows and how many it returned',
  tags: ['lake'],
  request: { body: jsonBody(QueryBody, 'the query') },
  responses: { ...ERRORS, 200: json(QueryResultSchema, 'the result'), ...NOT_FOUND },
});

export function queryRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>();
  let made: LakeReader | undefined;
  const reader = () => deps.lakeReader ?? (made ??= lakeReaderFor(deps));
  app.openapi(query, async (c) => {
    const { sql, lake, asOf, limit } = c.req.valid('json');
    const found = await findLake(contextOf(deps, c), lake);
    const request = { lake: found.location, sql, ...(asOf !== undefined && { asOf: toInstant(asOf) }) };
    const timeLimit = deps.queryTimeLimitMs ?? QUERY_TIME_LIMIT_MS;
    return c.json(await queryRows(reader(), request, limit, timeLimit), 200);
  });
  return app;
}
