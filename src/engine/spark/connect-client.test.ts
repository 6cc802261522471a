import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sparkProxy, sparkServerOrSkip } from '../../testing/spark.js';
import { SparkConnectClient, SparkEngineError } from './connect-client.js';

const server = sparkServerOrSkip('Spark Connect client');

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const address = listener.address();
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('Spark Connect client', () => {
  it('a refused endpoint fails with an error naming it', async () => {
    const port = await closedPort();
    const started = Date.now();
    const failure = await SparkConnectClient.connect({
      remote: `sc://127.0.0.1:${port}`,
      connectTimeoutMs: 3_000,
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SparkEngineError);
    expect((failure as SparkEngineError).message).toContain(
      `Spark Connect at sc://127.0.0.1:${port} is unreachable`,
    );
    expect((failure as SparkEngineError).endpoint).toBe(`sc://127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe.skipIf(!server)('Spark Connect client against a real server', () => {
  let client: SparkConnectClient;
  const scratch: string[] = [];

  beforeAll(async () => {
    client = await SparkConnectClient.connect({
      remote: server?.remote ?? '',
      config: { 'spark.sql.session.timeZone': 'UTC' },
    });
  });

  afterAll(async () => {
    await client?.close();
    await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('returns every SQL type as a JSON-safe value', async () => {
    const result = await client.query(`
      SELECT 42 AS int_value,
             9007199254740993 AS big_value,
             CAST(12 AS BIGINT) AS small_bigint,
             1.5D AS double_value,
             CAST('12345.678' AS DECIMAL(12, 3)) AS decimal_value,
             CAST('-0.05' AS DECIMAL(38, 2)) AS negative_decimal,
             'Société Générale — élève' AS text_value,
             DATE '2022-03-15' AS date_value,
             TIMESTAMP '2022-03-15 10:30:00.123456' AS timestamp_value,
             CAST(NULL AS STRING) AS null_value,
             true AS bool_value,
             array(1, 2, 3) AS array_value,
             named_struct('a', 1, 'b', 'x', 'c', array(named_struct('d', DATE '2020-01-01'))) AS struct_value,
             map('k', 1) AS map_value`);
    expect(result.rows).toEqual([
      {
        int_value: 42,
        big_value: '9007199254740993',
        small_bigint: 12,
        double_value: 1.5,
        decimal_value: '12345.678',
        negative_decimal: '-0.05',
        text_value: 'Société Générale — élève',
        date_value: '2022-03-15',
        timestamp_value: '2022-03-15T10:30:00.123456Z',
        null_value: null,
        bool_value: true,
        array_value: [1, 2, 3],
        struct_value: { a: 1, b: 'x', c: [{ d: '2020-01-01' }] },
        map_value: { k: 1 },
      },
    ]);
    expect(Object.fromEntries(result.columns.map((column) => [column.name, column.type]))).toMatchObject({
      int_value: 'int',
      big_value: 'bigint',
      decimal_value: 'decimal(12,3)',
      text_value: 'string',
      date_value: 'date',
      timestamp_value: 'timestamp',
      array_value: 'array<int>',
      struct_value: 'struct<a:int,b:string,c:array<struct<d:date>>>',
    });
  });

  it('returns BIGINTs as text when asked, as the engine port wants', async () => {
    const asText = await SparkConnectClient.connect({ remote: server?.remote ?? '', int64As: 'string' });
    try {
      const { rows } = await asText.query(
        'SELECT count(*) AS n, 9007199254740993 AS big, 7 AS small, array(CAST(1 AS BIGINT)) AS list FROM range(0, 3)',
      );
      expect(rows).toEqual([{ n: '3', big: '9007199254740993', small: 7, list: ['1'] }]);
    } finally {
      await asText.close();
    }
  });

  it('returns the columns of an empty result, with the Delta types they are written as', async () => {
    const result = await client.query(
      'SELECT id, CAST(id AS STRING) AS label FROM range(0, 10) WHERE id < 0',
    );
    expect(result.rows).toEqual([]);
    expect(result.columns).toEqual([
      { name: 'id', type: 'bigint', deltaType: 'long' },
      { name: 'label', type: 'string', deltaType: 'string' },
    ]);
  });

  it('streams a large result batch by batch', async () => {
    let rows = 0;
    let batches = 0;
    for await (const batch of client.queryBatches(
      "SELECT id, repeat('x', 100) AS pad FROM range(0, 200000)",
    )) {
      batches += 1;
      rows += batch.rows.length;
      expect(batch.columns.map((column) => column.name)).toEqual(['id', 'pad']);
    }
    expect(rows).toBe(200_000);
    expect(batches).toBeGreaterThan(1);
  });

  it('keeps a temp view for its session and hides it from another', async () => {
    await client.sql('CREATE OR REPLACE TEMP VIEW medallion_numbers AS SELECT id FROM range(0, 5)');
    const { rows } = await client.query('SELECT sum(id) AS total FROM medallion_numbers');
    expect(rows).toEqual([{ total: 10 }]);

    const other = await SparkConnectClient.connect({ remote: server?.remote ?? '' });
    try {
      expect(other.sessionId).not.toBe(client.sessionId);
      await expect(other.query('SELECT * FROM medallion_numbers')).rejects.toThrow(/TABLE_OR_VIEW_NOT_FOUND/);
    } finally {
      await other.close();
    }
  });

  it('reports an analysis error with Spark’s message and error class', async () => {
    const failure = await client.query('SELECT * FROM no_such_table_anywhere').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SparkEngineError);
    const error = failure as SparkEngineError;
    expect(error.message).toMatch(/^\[TABLE_OR_VIEW_NOT_FOUND\].*no_such_table_anywhere/);
    expect(error.info.errorClass).toBe('TABLE_OR_VIEW_NOT_FOUND');
    expect(error.info.sqlState).toBe('42P01');
    expect(error.endpoint).toBe(server?.remote);
    expect(error.grpcCode).toBeTypeOf('number');
  });

  it('reports a syntax error from a command', async () => {
    await expect(client.sql('CREATE TEMP VIEW AS SELEKT 1')).rejects.toThrow(/PARSE_SYNTAX_ERROR/);
  });

  it('interrupts a long query within seconds', async () => {
    const running = client
      .query('SELECT count(*) AS n FROM range(0, 100000000000) a CROSS JOIN range(0, 1000) b', {
        tags: ['long'],
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const started = Date.now();
    const interrupted = await client.interrupt({ tag: 'long' });
    expect(interrupted).toHaveLength(1);
    const failure = await running;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(failure).toBeInstanceOf(SparkEngineError);
    expect((failure as SparkEngineError).cancelled).toBe(true);
    expect((failure as SparkEngineError).message).toMatch(/cancel/i);
    // The session still works after an interrupt.
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('writes Parquet into a local directory and reads it back', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'spark-parquet-'));
    scratch.push(dir);
    const target = path.join(dir, 'out');
    await client.sql(
      `INSERT OVERWRITE DIRECTORY '${target}' USING parquet ` +
        "SELECT /*+ REPARTITION(2) */ id, concat('row ', id) AS label FROM range(0, 1000)",
    );
    const files = await readdir(target);
    expect(files.filter((file) => file.endsWith('.parquet')).length).toBeGreaterThan(0);
    const { rows } = await client.query(
      `SELECT count(*) AS n, sum(id) AS total, max(label) AS last FROM parquet.\`${target}\``,
    );
    expect(rows).toEqual([{ n: 1000, total: 499500, last: 'row 999' }]);
  });

  it('resumes a query whose connection broke, by reattaching to the running operation', async () => {
    const proxy = await sparkProxy(server?.remote ?? '');
    const viaProxy = await SparkConnectClient.connect({ remote: proxy.remote });
    try {
      // Four rows that take two seconds each, on two executors: the query runs for about four seconds.
      const running = viaProxy
        .query(
          "SELECT id, reflect('java.lang.Thread', 'sleep', CAST(2000 AS BIGINT)) AS slept FROM range(0, 4, 1, 4)",
        )
        .then(
          (result) => ({ result }),
          (error: unknown) => ({ error }),
        );
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const before = proxy.connections();
      proxy.cut();
      const outcome = await running;
      expect(outcome).not.toHaveProperty('error');
      expect('result' in outcome && outcome.result.rows.map((row) => row.id)).toEqual([0, 1, 2, 3]);
      expect(proxy.connections()).toBeGreaterThan(before);
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it('tells the application the session runs in', async () => {
    const info = await client.applicationInfo();
    expect(info.sparkVersion).toMatch(/^4\.\d+\.\d+/);
    expect(info.appId).not.toBe('');
    expect(info.master).toMatch(/^(spark|local)/);
  });
});
