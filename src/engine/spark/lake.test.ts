import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientFor, removeBuckets } from '../../services/s3-admin.js';
import { freshBucketName, s3ServerOrSkip } from '../../testing/minio.js';
import { sparkLakeServerOrSkip } from '../../testing/spark.js';
import { SparkConnectClient } from './connect-client.js';

const suite = 'Spark with Delta Lake and s3a on MinIO';
const s3 = s3ServerOrSkip(suite);
const spark = sparkLakeServerOrSkip(suite);

describe.skipIf(!s3 || !spark)(suite, () => {
  const bucket = freshBucketName('spark');
  let admin: S3Client;
  let client: SparkConnectClient;

  beforeAll(async () => {
    if (!s3 || !spark) return;
    admin = clientFor(s3);
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    // Session settings named as Hadoop keys (fs.s3a.*, not spark.hadoop.fs.s3a.*: that prefix is read only at
    // the server's start) go into the Hadoop configuration of this session's reads and writes, executors included.
    client = await SparkConnectClient.connect({
      remote: spark.remote,
      config: {
        'fs.s3a.endpoint': s3.endpoint,
        'fs.s3a.endpoint.region': s3.region,
        'fs.s3a.access.key': s3.accessKeyId,
        'fs.s3a.secret.key': s3.secretAccessKey,
        'fs.s3a.path.style.access': 'true',
        'fs.s3a.connection.ssl.enabled': 'false',
      },
    });
  });

  afterAll(async () => {
    await client?.close();
    if (admin) await removeBuckets(admin, bucket);
  });

  it('writes Parquet to an s3a:// path and reads it back', async () => {
    const target = `s3a://${bucket}/parquet`;
    await client.sql(
      `INSERT OVERWRITE DIRECTORY '${target}' USING parquet ` +
        "SELECT /*+ REPARTITION(2) */ id, concat('ligne ', id) AS label FROM range(0, 1000)",
    );
    const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'parquet/' }));
    expect((listed.Contents ?? []).filter((object) => object.Key?.endsWith('.parquet')).length).toBe(2);
    const { rows } = await client.query(`SELECT count(*) AS n, sum(id) AS total FROM parquet.\`${target}\``);
    expect(rows).toEqual([{ n: 1000, total: 499500 }]);
  });

  it('keeps a Delta table on s3a with its history and time travel', async () => {
    const table = `delta.\`s3a://${bucket}/delta/numbers\``;
    await client.sql(`CREATE TABLE ${table} USING delta AS SELECT id FROM range(0, 10)`);
    await client.sql(`INSERT INTO ${table} SELECT id FROM range(10, 15)`);
    expect((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows).toEqual([{ n: 15 }]);
    expect((await client.query(`SELECT count(*) AS n FROM ${table} VERSION AS OF 0`)).rows).toEqual([
      { n: 10 },
    ]);
    const history = await client.query(`DESCRIBE HISTORY ${table}`);
    expect(history.rows.map((row) => [row.version, row.operation])).toEqual([
      [1, 'WRITE'],
      [0, 'CREATE TABLE AS SELECT'],
    ]);
    const log = await admin.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'delta/numbers/_delta_log/' }),
    );
    expect((log.Contents ?? []).map((object) => object.Key?.split('/').pop())).toEqual(
      expect.arrayContaining(['00000000000000000000.json', '00000000000000000001.json']),
    );
  });
});
