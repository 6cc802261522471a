/**
 * The lake: the project's lakes, their tables (schema, partitions, history, rows at any version or time, the
 * difference between two versions, a version as CSV or Parquet) and their objects a folder at a time, for any
 * role; a table restored to an older version, for operators. Objects and files are sent as attachments of a
 * neutral type: nothing from the lake is ever rendered as a page.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { OpenAPIHono, z, type RouteConfig } from '@hono/zod-openapi';
import { storeConnections } from '../../app/connections.js';
import { projectLakeReader, type LakeReader } from '../../app/lake-reader.js';
import { listObjects, OBJECT_AREAS, openObject } from '../../app/lake-objects.js';
import { diffVersions } from '../../app/table-diff.js';
import { EXPORT_FORMATS, exportVersion } from '../../app/table-export.js';
import { restoreTable } from '../../app/table-restore.js';
import { MAX_PREVIEW_ROWS, previewRows } from '../../app/table-rows.js';
import {
  describeTable,
  listLakes,
  listTables,
  TABLE_LAYERS,
  TABLE_NAME,
  tableHistory,
} from '../../app/tables.js';
import type { MetadataStore } from '../../metadata/metadata-store.js';
import type { Project } from '../../project/project.js';
import { contextOf, type ApiDeps, type ApiEnv } from '../env.js';
import { ERRORS, json, jsonBody, NOT_FOUND, route } from '../route.js';

const isoTime = z.string().openapi({ example: '2026-11-29T17:35:20.000Z' });
const whole = z.number().int();

const LakeSchema = z
  .object({ index: whole, location: z.string(), pipelines: z.array(z.string()) })
  .openapi('Lake');

const TableSummarySchema = z
  .object({
    layer: z.enum(TABLE_LAYERS),
    table: z.string(),
    version: whole,
    rows: z.number(),
    bytes: z.number(),
    files: whole,
    committedAt: isoTime,
    operation: z.string().nullable(),
    runId: z.string().nullable(),
    task: z.string().nullable(),
    partitionColumns: z.array(z.string()),
  })
  .openapi('TableSummary');

const ColumnSchema = z
  .object({ name: z.string(), type: z.string(), nullable: z.boolean(), sortable: z.boolean() })
  .openapi('Column');

const TableDetailSchema = TableSummarySchema.extend({
  lake: LakeSchema,
  latestVersion: whole,
  versions: z.array(whole),
  columns: z.array(ColumnSchema),
  partitions: z.array(
    z.object({
      values: z.record(z.string(), z.string().nullable()),
      files: whole,
      rows: z.number(),
      bytes: z.number(),
    }),
  ),
}).openapi('TableDetail');

const VersionSchema = z
  .object({
    version: whole,
    committedAt: isoTime,
    operation: z.string().nullable(),
    mode: z.string().nullable(),
    runId: z.string().nullable(),
    task: z.string().nullable(),
    restoredVersion: whole.nullable().openapi({ description: 'the version a RESTORE brought back' }),
    rowsAdded: z.number().nullable(),
    rowsRemoved: z.number().nullable(),
    filesAdded: whole,
    filesRemoved: whole,
    bytesAdded: z.number(),
    bytesRemoved: z.number(),
  })
  .openapi('TableVersion');

const RowSchema = z.record(z.string(), z.unknown());

const RowsPageSchema = z
  .object({
    version: whole,
    columns: z.array(ColumnSchema),
    rows: z.array(RowSchema),
    total: z.number(),
    offset: whole,
    limit: whole,
    sort: z.string().nullable(),
    order: z.enum(['asc', 'desc']),
  })
  .openapi('RowsPage');

const RowSample = z.object({ rows: z.number(), sample: z.array(RowSchema) });

const DiffSchema = z
  .object({
    from: whole,
    to: whole,
    columns: z.array(ColumnSchema),
    schemaChanges: z.object({ added: z.array(z.string()), removed: z.array(z.string()) }),
    added: RowSample,
    removed: RowSample,
  })
  .openapi('VersionDiff');

const ObjectListingSchema = z
  .object({
    lake: LakeSchema,
    area: z.enum(OBJECT_AREAS),
    prefix: z.string(),
    entries: z.array(
      z.object({
        kind: z.enum(['folder', 'file']),
        key: z.string(),
        name: z.string(),
        size: z.number().nullable(),
        lastModified: isoTime.nullable(),
      }),
    ),
    total: whole,
    offset: whole,
    limit: whole,
  })
  .openapi('ObjectListing');

const lakeParam = z.string().min(1).max(2048).optional().openapi({
  description: 'the lake, by its index or location as GET /api/lakes gives them; default: the first',
});

const LakeQuery = z.object({ lake: lakeParam });

const TableParams = z.object({
  layer: z
    .enum(TABLE_LAYERS, `expected one of ${TABLE_LAYERS.join(', ')}`)
    .openapi({ param: { name: 'layer', in: 'path' }, example: 'gold' }),
  table: z
    .string()
    .regex(TABLE_NAME, 'a table name: letters, digits, _ and -')
    .openapi({ param: { name: 'table', in: 'path' }, example: 'top_100_companies' }),
});

const version = z.coerce.number().int().min(0);
const VersionQuery = LakeQuery.extend({
  version: version.optional().openapi({ description: 'default: the latest' }),
  asOf: z.iso.datetime({ offset: true }).or(z.iso.date()).optional().openapi({
    description:
      'instead of a version: the newest committed at or before this instant (a date: midnight UTC at its start)',
    example: '2026-11-29T12:00:00Z',
  }),
});

/** `?version=` and `?asOf=` as the app takes them. */
function versionChoice(query: { version?: number | undefined; asOf?: string | undefined }) {
  return {
    ...(query.version !== undefined && { version: query.version }),
    ...(query.asOf !== undefined && {
      asOf: new Date(/^\d{4}-\d{2}-\d{2}$/.test(query.asOf) ? `${query.asOf}T00:00:00Z` : query.asOf),
    }),
  };
}

const tableRoute = <const Q extends z.ZodObject, const R extends RouteConfig['responses'][number]>(
  path: string,
  summary: string,
  query: Q,
  ok: R,
) =>
  route('read', {
    method: 'get',
    path: `/api/lake/tables/{layer}/{table}${path}`,
    summary,
    tags: ['lake'],
    request: { params: TableParams, query },
    responses: { ...ERRORS, 200: ok, ...NOT_FOUND },
  });

const lakes = route('read', {
  method: 'get',
  path: '/api/lakes',
  summary: 'The lakes the project’s pipelines write',
  tags: ['lake'],
  responses: { ...ERRORS, 200: json(z.object({ lakes: z.array(LakeSchema) }), 'the lakes') },
});

const tables = route('read', {
  method: 'get',
  path: '/api/lake/tables',
  summary: 'A lake’s tables, layer by layer: version, rows, size, last commit and the run that made it',
  tags: ['lake'],
  request: { query: LakeQuery },
  responses: {
    ...ERRORS,
    200: json(
      z.object({
        lake: LakeSchema,
        tables: z.array(
          TableSummarySchema.extend({
            staleInputs: z.array(z.string()).openapi({
              description:
                'the tables it reads that have a commit newer than its own: stale (the next run rebuilds it) when any',
            }),
          }),
        ),
        unreadable: z.array(z.object({ layer: z.enum(TABLE_LAYERS), table: z.string(), error: z.string() })),
      }),
      'the tables',
    ),
    ...NOT_FOUND,
  },
});

const table = tableRoute(
  '',
  'A table at a version: schema, partitions, and what made the version',
  VersionQuery,
  json(TableDetailSchema, 'the table'),
);

const history = tableRoute(
  '/history',
  'A table’s versions, newest first: time, operation, run, rows added and removed',
  LakeQuery.extend({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
  json(z.object({ versions: z.array(VersionSchema) }), 'the versions'),
);

const rows = tableRoute(
  '/rows',
  `A page of a version’s rows (at most ${MAX_PREVIEW_ROWS}), sorted by a column of its schema`,
  VersionQuery.extend({
    offset: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(MAX_PREVIEW_ROWS).default(50),
    sort: z.string().min(1).max(300).optional().openapi({ description: 'a column of the table' }),
    order: z.enum(['asc', 'desc']).default('asc'),
  }),
  json(RowsPageSchema, 'the rows'),
);

const diff = tableRoute(
  '/diff',
  'The rows one version added and removed against another: counts and a sample of each',
  LakeQuery.extend({ from: version, to: version }),
  json(DiffSchema, 'the difference'),
);

const download = tableRoute(
  '/download',
  'A version as one CSV or Parquet file (an attachment)',
  VersionQuery.extend({ format: z.enum(EXPORT_FORMATS).default('csv') }),
  {
    content: {
      'text/csv': { schema: z.string() },
      'application/vnd.apache.parquet': { schema: z.string().openapi({ format: 'binary' }) },
    },
    description: 'the file',
  },
);

const restore = route('operate', {
  method: 'post',
  path: '/api/lake/tables/{layer}/{table}/restore',
  summary:
    'Restore a bronze, silver or gold table to an older version: a new commit of that state; the tables that read it are stale until the next run rebuilds them',
  tags: ['lake'],
  request: {
    params: TableParams,
    query: LakeQuery,
    body: jsonBody(z.object({ version }), 'the version to bring back'),
  },
  responses: {
    ...ERRORS,
    200: json(
      z
        .object({
          layer: z.enum(TABLE_LAYERS),
          table: z.string(),
          restoredVersion: whole,
          version: whole,
          rows: z.number(),
          files: whole,
          committedAt: isoTime,
          staleReaders: z.array(z.string()),
        })
        .openapi('RestoredTable'),
      'the new version',
    ),
    ...NOT_FOUND,
  },
});

const area = z.enum(OBJECT_AREAS, `expected one of ${OBJECT_AREAS.join(', ')}`);

const objects = route('read', {
  method: 'get',
  path: '/api/lake/objects',
  summary: 'One folder of a lake area: its folders and files (size, time), a page at a time',
  tags: ['lake'],
  request: {
    query: LakeQuery.extend({
      area,
      prefix: z.string().max(1024).default('').openapi({ description: 'a folder: empty, or ending with /' }),
      offset: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(1000).default(200),
    }),
  },
  responses: { ...ERRORS, 200: json(ObjectListingSchema, 'the folder'), ...NOT_FOUND },
});

const object = route('read', {
  method: 'get',
  path: '/api/lake/objects/download',
  summary: 'One object of a lake area (an attachment)',
  tags: ['lake'],
  request: { query: LakeQuery.extend({ area, key: z.string().min(1).max(1024) }) },
  responses: {
    ...ERRORS,
    200: {
      content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
      description: 'the object',
    },
    ...NOT_FOUND,
  },
});

/** `attachment` with the name as ASCII and as UTF-8 (RFC 6266), whatever characters it holds. */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

function send(body: Readable, headers: { type: string; name: string; bytes: number }): Response {
  return new Response(Readable.toWeb(body) as unknown as ReadableStream, {
    status: 200,
    headers: {
      'content-type': headers.type,
      'content-length': String(headers.bytes),
      'content-disposition': attachment(headers.name),
      'cache-control': 'no-store',
    },
  });
}

/** The reader `serve` uses: lakes opened with the environment's settings and the store's named connections. */
export function lakeReaderFor(deps: { store: MetadataStore; project: Project }): LakeReader {
  return projectLakeReader(deps.project, storeConnections(deps.store));
}

export function lakeRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>();
  let made: LakeReader | undefined;
  const reader = () => deps.lakeReader ?? (made ??= lakeReaderFor(deps));
  const ref = (c: { req: { valid(target: 'param'): z.infer<typeof TableParams> } }, lake?: string) => ({
    ...c.req.valid('param'),
    lake,
  });

  app.openapi(lakes, async (c) => c.json({ lakes: await listLakes(contextOf(deps, c)) }, 200));
  app.openapi(tables, async (c) =>
    c.json(await listTables(contextOf(deps, c), reader(), c.req.valid('query').lake), 200),
  );
  app.openapi(table, async (c) => {
    const query = c.req.valid('query');
    return c.json(
      await describeTable(contextOf(deps, c), reader(), ref(c, query.lake), versionChoice(query)),
      200,
    );
  });
  app.openapi(history, async (c) => {
    const query = c.req.valid('query');
    return c.json(
      await tableHistory(contextOf(deps, c), reader(), ref(c, query.lake), { limit: query.limit }),
      200,
    );
  });
  app.openapi(rows, async (c) => {
    const { lake, version, asOf, ...query } = c.req.valid('query');
    const choice = versionChoice({ version, asOf });
    return c.json(
      await previewRows(contextOf(deps, c), reader(), ref(c, lake), { ...query, ...choice }),
      200,
    );
  });
  app.openapi(diff, async (c) => {
    const { lake, from, to } = c.req.valid('query');
    return c.json(await diffVersions(contextOf(deps, c), reader(), ref(c, lake), { from, to }), 200);
  });
  app.openapi(download, async (c) => {
    const { lake, format, ...choice } = c.req.valid('query');
    const file = await exportVersion(contextOf(deps, c), reader(), ref(c, lake), {
      format,
      ...versionChoice(choice),
    });
    const body = createReadStream(file.path);
    body.once('close', () => void file.remove());
    return send(body, { type: file.contentType, name: file.fileName, bytes: file.bytes }) as never;
  });
  app.openapi(restore, async (c) => {
    const { lake } = c.req.valid('query');
    const { version } = c.req.valid('json');
    return c.json(await restoreTable(contextOf(deps, c), reader(), ref(c, lake), version), 200);
  });

  app.openapi(objects, async (c) =>
    c.json(await listObjects(contextOf(deps, c), reader(), c.req.valid('query')), 200),
  );
  app.openapi(object, async (c) => {
    const found = await openObject(contextOf(deps, c), reader(), c.req.valid('query'));
    return send(found.body, {
      type: 'application/octet-stream',
      name: found.name,
      bytes: found.size,
    }) as never;
  });
  return app;
}
