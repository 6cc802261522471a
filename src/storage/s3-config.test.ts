import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { parseS3Url, s3ConfigFromEnv, splitS3Url } from './s3-config.js';

describe('parseS3Url', () => {
  it('splits a URL into bucket and a prefix ending in a slash', () => {
    expect(parseS3Url('s3://epf-big-data-processing/tp3-4/sources')).toEqual({
      bucket: 'epf-big-data-processing',
      prefix: 'tp3-4/sources/',
    });
    expect(parseS3Url('s3://lake')).toEqual({ bucket: 'lake', prefix: '' });
    expect(parseS3Url('s3://lake/')).toEqual({ bucket: 'lake', prefix: '' });
    expect(parseS3Url('S3://lake//a//b/')).toEqual({ bucket: 'lake', prefix: 'a/b/' });
  });

  it('rejects what is not an S3 URL or names an invalid bucket, saying why', () => {
    expect(() => parseS3Url('/data/lake')).toThrow(ConfigError);
    expect(() => parseS3Url('s3:///prefix')).toThrow(/invalid bucket name ""/);
    expect(() => parseS3Url('s3://My_Bucket/x')).toThrow(/invalid bucket name "My_Bucket"/);
    expect(() => parseS3Url('s3://lake/a/../b')).toThrow(/"\." or "\.\." segments/);
  });
});

describe('parseS3Url with a connection name', () => {
  it('takes the name before @ as the connection to reach the bucket with', () => {
    expect(parseS3Url('s3://minio-local@lake/raw/2024')).toEqual({
      connection: 'minio-local',
      bucket: 'lake',
      prefix: 'raw/2024/',
    });
    expect(parseS3Url('s3://aws_prod@lake')).toEqual({ connection: 'aws_prod', bucket: 'lake', prefix: '' });
    expect(splitS3Url('s3://minio@')).toEqual({ connection: 'minio', bucketPart: '', rest: '' });
    expect(splitS3Url('s3://minio@acme-{layer}/x')).toEqual({
      connection: 'minio',
      bucketPart: 'acme-{layer}',
      rest: 'x',
    });
    expect(splitS3Url('s3://acme-{layer}')).toEqual({ bucketPart: 'acme-{layer}', rest: '' });
  });

  it('rejects a password in the URL without repeating it', () => {
    for (const url of ['s3://minio:hunter2-secret@lake/x', 's3://minio:hunter2-secret@', 's3://a:b@c@lake']) {
      let message = '';
      try {
        parseS3Url(url);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain('put credentials in a connection, not in the URL');
      expect(message).not.toContain('hunter2');
    }
  });

  it('rejects connection names that are not lower_snake_case or kebab-case', () => {
    expect(() => parseS3Url('s3://Minio@lake')).toThrow(/invalid connection name "Minio"/);
    expect(() => parseS3Url('s3://-x@lake')).toThrow(/invalid connection name/);
    expect(() => parseS3Url('s3://@lake')).toThrow(/invalid connection name ""/);
  });
});

describe('s3ConfigFromEnv', () => {
  it('prefers MEDALLION_S3_* and falls back to the standard AWS variables', () => {
    expect(
      s3ConfigFromEnv({
        MEDALLION_S3_ENDPOINT: 'http://127.0.0.1:9000/',
        AWS_ENDPOINT_URL: 'http://ignored:1',
        AWS_REGION: 'eu-west-3',
        AWS_ACCESS_KEY_ID: 'aws-key',
        AWS_SECRET_ACCESS_KEY: 'aws-secret',
        MEDALLION_S3_ACCESS_KEY: 'minio-key',
        MEDALLION_S3_SECRET_KEY: 'minio-secret',
      }),
    ).toEqual({
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-3',
      forcePathStyle: true,
      credentials: { accessKeyId: 'minio-key', secretAccessKey: 'minio-secret' },
    });
    expect(s3ConfigFromEnv({ AWS_DEFAULT_REGION: 'eu-north-1' })).toEqual({
      region: 'eu-north-1',
      forcePathStyle: false,
    });
    expect(s3ConfigFromEnv({})).toEqual({ region: 'us-east-1', forcePathStyle: false });
    expect(
      s3ConfigFromEnv({ AWS_ENDPOINT_URL: 'https://s3.example.com', MEDALLION_S3_PATH_STYLE: 'false' })
        .forcePathStyle,
    ).toBe(false);
  });

  it('names every bad variable in one error', () => {
    let message = '';
    try {
      s3ConfigFromEnv({
        MEDALLION_S3_ENDPOINT: '127.0.0.1:9000',
        AWS_REGION: 'EU West',
        MEDALLION_S3_PATH_STYLE: 'maybe',
        AWS_ACCESS_KEY_ID: 'only-the-key',
      });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain('MEDALLION_S3_ENDPOINT="127.0.0.1:9000" must be an http:// or https:// URL');
    expect(message).toContain('AWS_REGION="EU West" must look like us-east-1');
    expect(message).toContain('MEDALLION_S3_PATH_STYLE="maybe" must be true or false');
    expect(message).toContain(
      'AWS_ACCESS_KEY_ID is set but MEDALLION_S3_SECRET_KEY / AWS_SECRET_ACCESS_KEY is not: set both or neither',
    );
  });
});
