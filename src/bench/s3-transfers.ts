/**
 * The S3 part of `npm run bench`, against a MinIO server: medallion's ingest of one large file and
 * of many small files from a source bucket into a lake on the server (each in a child process, see
 * run-ingest.ts) beside a plain single-stream GetObject + PutObject copy, and the example pipeline
 * on MinIO beside local disk (run-once.ts). Every bucket it makes starts with one fresh prefix and
 * is deleted at the end.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  medallionMeasure,
  runChild,
  time,
  type BaselineMeasure,
  type Failed,
  type IngestChildOutput,
  type IngestMeasure,
  type InputFile,
  type LargeFileResult,
  type MedallionChildOutput,
  type MedallionMeasure,
  type S3PipelineResult,
  type S3Result,
  type SmallFilesResult,
} from './measure.js';
import { s3EnvFor, type TestS3Server } from '../services/test-s3-server.js';
import { countCpu, serverVersion, type SpanCpu } from './s3-server.js';
import { mapConcurrently } from '../core/concurrency.js';
import { clientFor, deleteAll, deleteKeys, removeBuckets } from '../services/s3-admin.js';
import { sampleData, uploadFile, uploadSample } from './s3-buckets.js';

const MiB = 1024 * 1024;

export interface S3BenchOptions {
  server: TestS3Server;
  /** Working directory for local files (the object caches, the baseline's download…). */
  work: string;
  largeMiB: number;
  smallFiles: number;
  /** Scale of the pipeline comparison. */
  pipelineScale: number;
  /** That scale's sample data when the run already generated it (else it is generated here). */
  sample: { dir: string; input: InputFile[] } | undefined;
  memoryLimit: string;
  logicalDate: string;
  log: (message: string) => void;
}

const errorOf = (error: unknown): Failed => ({
  error: error instanceof Error ? error.message : String(error),
});
const mbPerSecond = (bytes: number, ms: number) => `${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;

/** Why the server cannot be used (it does not answer, or refuses the credentials); undefined when it can. */
export async function s3Unusable(server: TestS3Server): Promise<string | undefined> {
  const client = clientFor(server);
  try {
    await client.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(5_000) });
    return undefined;
  } catch (error) {
    return `the S3 server at ${server.endpoint} (from ${server.foundIn}) does not answer ListBuckets: ${errorOf(error).error}`;
  } finally {
    client.destroy();
  }
}

export async function benchS3(options: S3BenchOptions): Promise<S3Result> {
  const { server, log } = options;
  const client = clientFor(server);
  const prefix = `mbench-${Date.now().toString(36)}`;
  const sourceBucket = `${prefix}-src`;
  const work = path.join(options.work, 's3');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const version = await serverVersion(server);
  log(`S3: ${server.endpoint}${version ? ` (${version})` : ''}, from ${server.foundIn}; buckets ${prefix}-*`);
  try {
    await client.send(new CreateBucketCommand({ Bucket: sourceBucket }));
    // The pipeline first and the 10,000 small files last: deleting objects leaves MinIO background
    // work (its trash, its scanner) that would otherwise run during the next measurement.
    const pipelineResult = await benchPipeline(client, options, sourceBucket, `${prefix}-pl`, work).catch(
      errorOf,
    );
    const large = await benchLargeFile(client, options, sourceBucket, `${prefix}-lg`, work).catch(errorOf);
    await removeBuckets(client, `${prefix}-lg-`);
    const small = await benchSmallFiles(client, options, sourceBucket, `${prefix}-sm`, work).catch(errorOf);
    await removeBuckets(client, `${prefix}-sm-`);
    return {
      endpoint: server.endpoint,
      foundIn: server.foundIn,
      transferSettings: transferSettings(),
      ...(version ? { serverVersion: version } : {}),
      large,
      small,
      pipeline: pipelineResult,
    };
  } finally {
    await removeBuckets(client, `${prefix}-`).catch((error: unknown) =>
      log(`S3: could not delete the buckets ${prefix}-*: ${errorOf(error).error}`),
    );
    client.destroy();
    await rm(work, { recursive: true, force: true });
  }
}

/** The transfer tuning medallion's stores get from the environment (see src/cli/locations.ts). */
function transferSettings(): string {
  const names = ['MEDALLION_S3_PART_SIZE_MB', 'MEDALLION_S3_CONCURRENCY', 'MEDALLION_S3_MAX_ATTEMPTS'];
  const set = names.filter((name) => process.env[name]).map((name) => `${name}=${process.env[name]}`);
  return set.length
    ? set.join(', ')
    : 'the defaults (8 MiB parts and ranges, 4 at once per transfer; MEDALLION_S3_PART_SIZE_MB / MEDALLION_S3_CONCURRENCY unset)';
}

/** Runs run-ingest.js over `source` into a lake on `lakeBuckets-{layer}`, with a fresh object cache. */
async function measureIngest(
  options: S3BenchOptions,
  source: string,
  lakeBuckets: string,
  work: string,
): Promise<IngestMeasure> {
  const cacheDir = path.join(work, `${path.basename(lakeBuckets)}-cache`);
  const scratch = path.join(work, `${path.basename(lakeBuckets)}-scratch`);
  const cpu = await countCpu(options.server);
  try {
    const { output, wallMs } = await runChild<IngestChildOutput>(
      'run-ingest.js',
      [
        '--source',
        source,
        '--lake',
        `s3://${lakeBuckets}-{layer}`,
        '--scratch',
        scratch,
        '--memory-limit',
        options.memoryLimit,
      ],
      s3EnvFor(options.server, cacheDir),
    );
    return { ...output, processWallMs: wallMs, ...(await cpu()) };
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  }
}

async function benchLargeFile(
  client: S3Client,
  options: S3BenchOptions,
  bucket: string,
  lakeBuckets: string,
  work: string,
): Promise<LargeFileResult> {
  const { log } = options;
  const file = path.join(work, 'large.csv');
  const bytes = options.largeMiB * MiB;
  log(`S3 large file: writing ${options.largeMiB} MiB of CSV to ${file}`);
  const generated = await time(() => writeLargeCsv(file, bytes));
  const hashed = await time(() => sha256Of(file));
  log(`S3 large file: uploading it to s3://${bucket}/large/ (not timed)`);
  const uploaded = await time(() => uploadFile(options.server, work, bucket, 'large/large.csv', file));
  await rm(file, { force: true });

  log('S3 large file: baseline (one GetObject stream to a local file, one PutObject of that file)');
  let baseline: BaselineMeasure | Failed;
  try {
    baseline = await singleStreamCopy(client, options, bucket, 'large/large.csv', 'baseline/copy.csv', work);
    log(
      `S3 large file: baseline GET ${mbPerSecond(bytes, baseline.getMs)}, PUT ${mbPerSecond(bytes, baseline.putMs)}, ` +
        `both ${mbPerSecond(bytes, baseline.getMs + baseline.putMs)}`,
    );
  } catch (error) {
    baseline = errorOf(error);
    log(`S3 large file: baseline FAILED: ${baseline.error}`);
  }

  log('S3 large file: medallion ingest (child process)');
  let medallion: IngestMeasure | Failed;
  try {
    medallion = await measureIngest(options, `s3://${bucket}/large`, lakeBuckets, work);
    if (medallion.landed !== 1) throw new Error(`ingest landed ${medallion.landed} files, expected 1`);
    log(
      `S3 large file: medallion ${mbPerSecond(medallion.bytes, medallion.ingestMs)} (${(medallion.ingestMs / 1000).toFixed(2)} s)`,
    );
  } catch (error) {
    medallion = errorOf(error);
    log(`S3 large file: medallion FAILED: ${medallion.error}`);
  }
  await deleteKeys(client, bucket, ['large/large.csv']);
  return { bytes, generateMs: generated.ms, uploadMs: uploaded.ms, sha256Ms: hashed.ms, baseline, medallion };
}

async function singleStreamCopy(
  client: S3Client,
  options: S3BenchOptions,
  bucket: string,
  fromKey: string,
  toKey: string,
  work: string,
): Promise<BaselineMeasure> {
  const file = path.join(work, 'baseline-download.csv');
  const cpuBefore = process.cpuUsage();
  const span = await countCpu(options.server);
  try {
    const got = await time(async () => {
      const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: fromKey }));
      if (!(output.Body instanceof Readable)) throw new Error('GetObject returned no Node.js stream');
      await pipeline(output.Body, createWriteStream(file));
    });
    const { size } = await stat(file);
    const put = await time(() =>
      client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: toKey,
          Body: createReadStream(file),
          ContentLength: size,
        }),
      ),
    );
    const cpu = process.cpuUsage(cpuBefore);
    return {
      bytes: size,
      getMs: got.ms,
      putMs: put.ms,
      clientCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      ...(await span()),
    };
  } finally {
    await rm(file, { force: true });
    await deleteKeys(client, bucket, [toKey]).catch(() => {});
  }
}

async function benchSmallFiles(
  client: S3Client,
  options: S3BenchOptions,
  bucket: string,
  lakeBuckets: string,
  work: string,
): Promise<SmallFilesResult> {
  const { log } = options;
  const random = xorshift(7);
  const count = options.smallFiles;
  const digits = String(count).length;
  log(
    `S3 small files: putting ${count.toLocaleString('en-US')} files of 1–4 KB in s3://${bucket}/small/ (not timed)`,
  );
  let bytes = 0;
  const uploaded = await time(() =>
    mapConcurrently(
      Array.from({ length: count }, (_, index) => index),
      32,
      async (index) => {
        // The file's number is in its bytes: identical files would land once (same checksum).
        const body = smallCsv(index, 1024 + (random() % 3072), random);
        bytes += body.length;
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: `small/file-${String(index).padStart(digits, '0')}.csv`,
            Body: body,
            ContentLength: body.length,
          }),
        );
      },
    ),
  );
  log(`S3 small files: uploaded in ${(uploaded.ms / 1000).toFixed(1)} s; medallion ingest (child process)`);
  let medallion: IngestMeasure | Failed;
  try {
    medallion = await measureIngest(options, `s3://${bucket}/small`, lakeBuckets, work);
    if (medallion.landed !== count)
      throw new Error(`ingest landed ${medallion.landed} files, expected ${count}`);
    log(
      `S3 small files: medallion ${(medallion.landed / (medallion.ingestMs / 1000)).toFixed(0)} files/s (${(medallion.ingestMs / 1000).toFixed(2)} s)`,
    );
  } catch (error) {
    medallion = errorOf(error);
    log(`S3 small files: medallion FAILED: ${medallion.error}`);
  }
  await deleteAll(client, bucket, 'small/');
  return { files: count, bytes, uploadMs: uploaded.ms, medallion };
}

async function benchPipeline(
  client: S3Client,
  options: S3BenchOptions,
  bucket: string,
  lakeBuckets: string,
  work: string,
): Promise<S3PipelineResult> {
  const { log, pipelineScale: scale } = options;
  const sample = await sampleData(scale, options.sample, work, (message) => log(`S3 pipeline: ${message}`));
  const { dir: sourceDir, input } = sample;
  const uploaded = await time(() =>
    uploadSample(options.server, work, sample, `s3://${bucket}/pipeline`, (message) =>
      log(`S3 pipeline: ${message}`),
    ),
  );

  const spans: SpanCpu[] = [];
  const run = async (label: string, source: string, lake: string, env: NodeJS.ProcessEnv) => {
    log(`S3 pipeline: medallion with ${label} (runPipeline in a child process)`);
    const cpu = await countCpu(options.server);
    try {
      const { output, wallMs } = await runChild<MedallionChildOutput>(
        'run-once.js',
        [
          '--source',
          source,
          '--lake',
          lake,
          '--scratch',
          path.join(work, 'pipeline-scratch'),
          '--memory-limit',
          options.memoryLimit,
          '--logical-date',
          options.logicalDate,
        ],
        env,
      );
      spans.push(await cpu());
      const measure = medallionMeasure(output, wallMs);
      log(
        `S3 pipeline: ${label}: ${measure.status} in ${(measure.totalMs / 1000).toFixed(2)} s, peak RSS ${Math.round(measure.maxRssKb / 1024)} MiB`,
      );
      return measure;
    } catch (error) {
      spans.push({});
      const failure = errorOf(error);
      log(`S3 pipeline: ${label} FAILED: ${failure.error}`);
      return failure;
    }
  };

  const localLake = path.join(work, 'pipeline-lake');
  const local: MedallionMeasure | Failed = await run(
    'source and lake on local disk',
    sourceDir,
    localLake,
    {},
  );
  await rm(localLake, { recursive: true, force: true });
  const cacheDir = path.join(work, 'pipeline-cache');
  const s3 = await run(
    'source and lake on MinIO',
    `s3://${bucket}/pipeline`,
    `s3://${lakeBuckets}-{layer}`,
    s3EnvFor(options.server, cacheDir),
  );
  await rm(cacheDir, { recursive: true, force: true });
  await removeBuckets(client, `${lakeBuckets}-`);
  await deleteAll(client, bucket, 'pipeline/');
  return {
    scale,
    input,
    uploadMs: uploaded.ms,
    local,
    s3,
    ...(spans[0] ? { localCpu: spans[0] } : {}),
    ...(spans[1] ? { s3Cpu: spans[1] } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Source data

/** xorshift32: fast, seeded, good enough to make bytes that do not repeat. */
function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

const LINE = 64;
const LETTERS = Buffer.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');

/** Fills `buffer` with 64-byte CSV lines: `digits;letters;digits;letters\n`, random characters. */
function fillLines(buffer: Buffer, random: () => number): void {
  for (let offset = 0; offset < buffer.length; offset += 4) {
    const value = random();
    for (let i = 0; i < 4 && offset + i < buffer.length; i += 1) {
      const column = (offset + i) % LINE;
      const byte = (value >>> (8 * i)) & 0xff;
      buffer[offset + i] =
        column === LINE - 1
          ? 0x0a
          : column === 10 || column === 31 || column === 44
            ? 0x3b
            : column < 10 || (column > 31 && column < 44)
              ? 0x30 + (byte % 10)
              : (LETTERS[byte % LETTERS.length] as number);
    }
  }
}

async function writeLargeCsv(file: string, bytes: number): Promise<void> {
  const random = xorshift(42);
  const out = createWriteStream(file);
  const header = Buffer.from(
    `${'id'.padEnd(10)};${'name'.padEnd(20)};${'amount'.padEnd(12)};${'code'.padEnd(18)}\n`,
  );
  async function* chunks(): AsyncGenerator<Buffer> {
    yield header;
    for (let written = header.length; written < bytes;) {
      const chunk = Buffer.allocUnsafe(Math.min(4 * MiB, bytes - written));
      fillLines(chunk, random);
      written += chunk.length;
      yield chunk;
    }
  }
  await pipeline(Readable.from(chunks()), out);
}

function smallCsv(index: number, size: number, random: () => number): Buffer {
  const head = Buffer.from(`file;name;amount;code\n${index};`);
  const body = Buffer.allocUnsafe(Math.max(LINE, size - head.length));
  fillLines(body, random);
  return Buffer.concat([head, body]);
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
