/**
 * The MinIO side of the benchmark's S3 parts (s3-transfers.ts, workers-pipeline.ts): a client, the sample data put
 * in a source bucket, and buckets emptied and removed afterwards.
 */
import path from 'node:path';
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { generateDemoData } from '../demo-data/generate.js';
import type { TestS3Server } from '../services/test-s3-server.js';
import { S3ObjectStore } from '../storage/s3.js';
import type { InputFile } from './measure.js';

const MiB = 1024 * 1024;

export function clientFor(server: TestS3Server): S3Client {
  // The SDK warns once per process that its 2027 releases will need Node 22: noise in every child's log.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    // ../shared/FACTS.md: path-style for MinIO; no flexible checksums (aws-chunked framing).
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
  });
}

export interface SampleData {
  dir: string;
  input: InputFile[];
}

/** The sample data of `scale`: the run's own when it generated that scale, else generated under `work` (seed 42). */
export async function sampleData(
  scale: number,
  reused: SampleData | undefined,
  work: string,
  log: (message: string) => void,
): Promise<SampleData> {
  if (reused) {
    log(`reusing the scale-${scale} sample data in ${reused.dir}`);
    return reused;
  }
  const dir = path.join(work, `scale-${scale}-source`);
  log(`generating scale-${scale} sample data (seed 42) into ${dir}`);
  const generated = await generateDemoData({ scale, seed: 42, outDir: dir });
  return { dir, input: generated.files.map(({ name, bytes, records }) => ({ name, bytes, records })) };
}

/** Puts the sample's files under `s3://bucket/prefix` (not timed). */
export async function uploadSample(
  server: TestS3Server,
  work: string,
  sample: SampleData,
  location: string,
  log: (message: string) => void,
): Promise<void> {
  const [, bucket = '', prefix = ''] = /^s3:\/\/([^/]+)\/(.*)$/.exec(location) ?? [];
  log(`uploading ${sample.input.map((file) => file.name).join(', ')} to ${location}/ (not timed)`);
  for (const { name } of sample.input)
    await uploadFile(server, work, bucket, `${prefix}/${name}`, path.join(sample.dir, name));
}

/** Puts a local file (medallion's own multipart upload, not timed). */
export async function uploadFile(
  server: TestS3Server,
  work: string,
  bucket: string,
  key: string,
  file: string,
): Promise<void> {
  const store = new S3ObjectStore({
    bucket,
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    partSizeBytes: 16 * MiB,
    cacheDir: path.join(work, 'upload-cache'),
    cacheMaxBytes: MiB,
  });
  try {
    await store.putFile(file, key);
  } finally {
    store.destroy();
  }
}

export async function deleteKeys(client: S3Client, bucket: string, keys: string[]): Promise<void> {
  for (let start = 0; start < keys.length; start += 1000) {
    await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.slice(start, start + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
  }
}

/** Deletes every object under `prefix` in `bucket`. */
export async function deleteAll(client: S3Client, bucket: string, prefix = ''): Promise<void> {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    const keys = (page.Contents ?? []).flatMap((item) => (item.Key === undefined ? [] : [item.Key]));
    if (keys.length) await deleteKeys(client, bucket, keys);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Empties and deletes every bucket whose name starts with `prefix`. */
export async function removeBuckets(client: S3Client, prefix: string): Promise<void> {
  const { Buckets = [] } = await client.send(new ListBucketsCommand({}));
  for (const { Name } of Buckets) {
    if (!Name?.startsWith(prefix)) continue;
    await deleteAll(client, Name);
    await client.send(new DeleteBucketCommand({ Bucket: Name }));
  }
}
