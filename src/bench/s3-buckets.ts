/**
 * The sample data of the benchmark's S3 parts (s3-transfers.ts, workers-pipeline.ts), put in a source bucket (the
 * client and the clean-up are src/services/s3-admin.ts).
 */
import path from 'node:path';
import { generateDemoData } from '../demo-data/generate.js';
import type { TestS3Server } from '../services/test-s3-server.js';
import { S3ObjectStore } from '../storage/s3.js';
import type { InputFile } from './measure.js';

const MiB = 1024 * 1024;

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
