/** POST /api/query in process over the example pipeline's lake: rows for any role, the same refusals as the CLI. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryRows } from '../app/query.js';
import { addUser, createToken } from '../app/users.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { localLake } from '../table/lake-layout.js';
import { apiOver, callerWith } from '../testing/api.js';
import {
  addNafCodes,
  exampleLake,
  filesUnder,
  latestVersions,
  NEW_NAF_CODES,
} from '../testing/example-lake.js';
import { MAX_QUERY_ROWS } from './routes/query.js';

let dir: string;
let store: MetadataStore;
let call: ReturnType<typeof callerWith>;
let token: string;
/** Between the two runs of the pipeline. */
let firstRunAt: Date;

const NAF_CODES = "SELECT code_naf FROM silver.codes_naf WHERE code_naf LIKE '99%' ORDER BY code_naf";

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-query-api-'));
  const lake = localLake(path.join(dir, 'lake'));
  await exampleLake(path.join(dir, 'source'), lake);
  firstRunAt = new Date();
  await addNafCodes(path.join(dir, 'source'), lake);
  const config = { source: 'source', lake: 'lake', engine: { scratchDir: 'scratch' } };
  await writeFile(path.join(dir, 'medallion.config.json'), JSON.stringify(config));
  store = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.db')}`);
  await addUser(store, { name: 'vera', role: 'viewer', password: 'a password for vera' });
  ({ token } = await createToken(store, { user: 'vera', name: 'test' }));
  call = callerWith(await apiOver(store, dir), token);
});

afterAll(async () => {
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

const query = (body: object) =>
  call<QueryRows & { error?: string; field?: string }>('POST', '/api/query', body);

describe('POST /api/query', () => {
  it('gives a viewer the first rows of a join of silver and gold, the total and the versions read', async () => {
    const { status, body } = await query({
      sql: 'SELECT g.siret, e.code_postal FROM gold.top_100_companies g JOIN silver.etablissements e USING (siret)',
      limit: 3,
    });
    expect(status).toBe(200);
    expect(body.columns).toEqual([
      { name: 'siret', type: 'VARCHAR' },
      { name: 'code_postal', type: 'VARCHAR' },
    ]);
    expect(body.rows).toHaveLength(3);
    const all = await query({ sql: 'SELECT count(*) AS n FROM gold.top_100_companies' });
    expect(body.total).toBe(all.body.rows[0]?.[0]);
    expect(body.tables.map((read) => `${read.layer}.${read.table} v${read.version}`).sort()).toEqual(
      await latestVersions(localLake(path.join(dir, 'lake')), [
        'gold.top_100_companies',
        'silver.etablissements',
      ]),
    );
  });

  it('reads the versions of a past time with asOf', async () => {
    const now = await query({ sql: NAF_CODES, limit: MAX_QUERY_ROWS });
    const then = await query({ sql: NAF_CODES, limit: MAX_QUERY_ROWS, asOf: firstRunAt.toISOString() });
    expect(then.status).toBe(200);
    expect(then.body.tables).toMatchObject([{ version: 0 }]);
    expect(now.body.rows.flat()).toEqual(expect.arrayContaining(NEW_NAF_CODES));
    expect(then.body.rows.flat()).not.toContain(NEW_NAF_CODES[0]);
    const early = await query({ sql: NAF_CODES, asOf: '2000-01-01' });
    expect(early).toMatchObject({ status: 404, body: { error: expect.stringContaining('did not exist') } });
  });

  it('refuses writes, file reads and several statements with 400 and why, changing nothing', async () => {
    const before = await filesUnder(path.join(dir, 'lake'));
    for (const [sql, error] of [
      ['DELETE FROM gold.top_100_companies', 'refused: DELETE writes to the database: only a SELECT may run'],
      [`COPY gold.top_100_companies TO '${dir}/out.csv'`, 'refused: COPY copies data to or from files'],
      ["SELECT * FROM read_csv('/etc/passwd')", 'refused: the table function read_csv() can read files'],
      ['SELECT 1; DROP TABLE gold.top_100_companies', 'refused: 2 statements'],
      ["SET enable_external_access = 'true'", 'refused: SET changes settings'],
    ]) {
      const answer = await query({ sql });
      expect(answer.status, sql).toBe(400);
      expect(answer.body.error, sql).toContain(error);
      expect(answer.body.field, sql).toBe('sql');
    }
    expect(await filesUnder(path.join(dir, 'lake'))).toEqual(before);
  });

  it(`refuses more than ${MAX_QUERY_ROWS} rows, and an asOf that is not a time`, async () => {
    expect((await query({ sql: NAF_CODES, limit: MAX_QUERY_ROWS + 1 })).status).toBe(400);
    const badTime = await query({ sql: NAF_CODES, asOf: 'yesterday' });
    expect(badTime.status).toBe(400);
    expect(badTime.body.error).toContain('asOf');
  });

  it('stops a query running past the time limit and refuses it with 400 and why; the next query runs', async () => {
    const limited = callerWith(await apiOver(store, dir, () => {}, { queryTimeLimitMs: 300 }), token);
    const started = Date.now();
    const slow = await limited<{ error: string; field: string }>('POST', '/api/query', {
      // Billions of rows: minutes of work unless stopped.
      sql: 'SELECT sum(length(a.siret || b.siret || c.code_naf)) FROM silver.etablissements a, silver.etablissements b, silver.codes_naf c',
    });
    expect(slow.status).toBe(400);
    expect(slow.body).toMatchObject({
      error: 'the query ran longer than 0.3 s and was stopped',
      field: 'sql',
    });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect((await limited('POST', '/api/query', { sql: NAF_CODES })).status).toBe(200);
  });
});
