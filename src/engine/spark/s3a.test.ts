import { describe, expect, it } from 'vitest';
import { LocalDiskStore } from '../../storage/local-disk.js';
import { S3ObjectStore } from '../../storage/s3.js';
import { s3aBucketSettings, sparkReach } from './s3a.js';

describe("how Spark reaches a store's objects", () => {
  it('gives a MinIO bucket its endpoint, region, keys, path style and no TLS, for that bucket only', () => {
    expect(
      s3aBucketSettings('lake', {
        endpoint: 'http://127.0.0.1:9000',
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'minio-user', secretAccessKey: 'minio-secret' },
      }),
    ).toEqual({
      'fs.s3a.bucket.lake.endpoint': 'http://127.0.0.1:9000',
      'fs.s3a.bucket.lake.endpoint.region': 'us-east-1',
      'fs.s3a.bucket.lake.path.style.access': 'true',
      'fs.s3a.bucket.lake.connection.ssl.enabled': 'false',
      'fs.s3a.bucket.lake.access.key': 'minio-user',
      'fs.s3a.bucket.lake.secret.key': 'minio-secret',
    });
  });

  it('leaves AWS its own endpoint, and passes temporary credentials with the provider that reads them', () => {
    expect(
      s3aBucketSettings('acme-gold', {
        region: 'eu-west-3',
        forcePathStyle: false,
        credentials: { accessKeyId: 'AKIA', secretAccessKey: 'secret', sessionToken: 'token' },
      }),
    ).toEqual({
      'fs.s3a.bucket.acme-gold.endpoint.region': 'eu-west-3',
      'fs.s3a.bucket.acme-gold.path.style.access': 'false',
      'fs.s3a.bucket.acme-gold.access.key': 'AKIA',
      'fs.s3a.bucket.acme-gold.secret.key': 'secret',
      'fs.s3a.bucket.acme-gold.session.token': 'token',
      'fs.s3a.bucket.acme-gold.aws.credentials.provider':
        'org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider',
    });
  });

  it("names an S3 store's objects s3a://bucket/prefix/key, with the store's own connection", async () => {
    const store = new S3ObjectStore({
      bucket: 'lake',
      prefix: 'team/silver',
      endpoint: 'https://s3.example.com',
      region: 'eu-west-3',
      credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
      cacheDir: '/nonexistent',
      cacheMaxBytes: 1,
    });
    const reach = sparkReach(store);
    expect(reach.remote).toBe(true);
    expect(await reach.uri('orders/part-0.parquet')).toBe('s3a://lake/team/silver/orders/part-0.parquet');
    expect(reach.settings).toMatchObject({
      'fs.s3a.bucket.lake.endpoint': 'https://s3.example.com',
      'fs.s3a.bucket.lake.connection.ssl.enabled': 'true',
      'fs.s3a.bucket.lake.path.style.access': 'true',
    });
    store.destroy();
  });

  it('reads a local store as files and needs no setting', async () => {
    const reach = sparkReach(new LocalDiskStore('/srv/lake/silver'));
    expect(reach).toMatchObject({ remote: false, settings: {} });
  });
});
