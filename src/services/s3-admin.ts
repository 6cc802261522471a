/**
 * A plain S3 client on the test (or benchmark) MinIO server, and what leaves the server as it was found: objects
 * deleted, buckets emptied and removed. Shared by the benchmark and the tests that make buckets of their own.
 */
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import type { TestS3Server } from './test-s3-server.js';

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
