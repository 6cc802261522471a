import { mkdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import type { ObjectStore } from '../storage/object-store.js';
import { isS3Url, parseS3Url, s3ConfigFromEnv } from '../storage/s3-config.js';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../storage/s3.js';
import {
  AREA_DIRECTORIES,
  LAKE_AREAS,
  localLake,
  type LakeArea,
  type LakeStores,
} from '../table/lake-layout.js';

/**
 * Turns the `--source` and `--lake` arguments into stores: a directory, or an S3 URL reached with
 * the MEDALLION_S3_* / AWS_* settings of the environment. Problems are reported at start, once each.
 */
export interface StoreSettings {
  env: NodeJS.ProcessEnv;
  /** Where objects read from S3 are cached for DuckDB. */
  cacheDir: string;
  cacheMaxBytes: number;
  /** Transfer tuning for S3 stores (attempts, timeouts, part size…). */
  s3?: Partial<
    Pick<
      S3ObjectStoreOptions,
      'maxAttempts' | 'connectionTimeoutMs' | 'idleTimeoutMs' | 'partSizeBytes' | 'queueSize'
    >
  >;
}

const GiB = 1024 ** 3;

/** A whole number from the environment, or undefined when unset; a clear error names the variable. */
function envInteger(env: NodeJS.ProcessEnv, name: string, minimum: number): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value) || Number(value) < minimum) {
    throw new ConfigError(`${name} must be a whole number ≥ ${minimum}, got "${value}"`, {
      context: { field: name },
    });
  }
  return Number(value);
}

/**
 * Cache and transfer settings from the environment: MEDALLION_CACHE_DIR, MEDALLION_CACHE_MAX_BYTES,
 * MEDALLION_S3_PART_SIZE_MB (multipart part and download range size), MEDALLION_S3_CONCURRENCY (parts or
 * ranges in flight per transfer), MEDALLION_S3_MAX_ATTEMPTS (per request, with backoff and jitter).
 */
export function storeSettings(env: NodeJS.ProcessEnv = process.env): StoreSettings {
  const partSizeMb = envInteger(env, 'MEDALLION_S3_PART_SIZE_MB', 5);
  const queueSize = envInteger(env, 'MEDALLION_S3_CONCURRENCY', 1);
  const maxAttempts = envInteger(env, 'MEDALLION_S3_MAX_ATTEMPTS', 1);
  return {
    env,
    cacheDir: env.MEDALLION_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'medallion', 'objects'),
    cacheMaxBytes: envInteger(env, 'MEDALLION_CACHE_MAX_BYTES', 1) ?? 20 * GiB,
    s3: {
      ...(partSizeMb === undefined ? {} : { partSizeBytes: partSizeMb * 1024 * 1024 }),
      ...(queueSize === undefined ? {} : { queueSize }),
      ...(maxAttempts === undefined ? {} : { maxAttempts }),
    },
  };
}

function s3Store(bucket: string, prefix: string, settings: StoreSettings): S3ObjectStore {
  return new S3ObjectStore({
    bucket,
    prefix,
    ...s3ConfigFromEnv(settings.env),
    cacheDir: settings.cacheDir,
    cacheMaxBytes: settings.cacheMaxBytes,
    ...settings.s3,
  });
}

export async function openSource(location: string, settings: StoreSettings): Promise<ObjectStore> {
  if (isS3Url(location)) {
    const { bucket, prefix } = parseS3Url(location);
    const store = s3Store(bucket, prefix, settings);
    await store.verify();
    return store;
  }
  const info = await stat(location).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new ConfigError(`${location} is not a directory`, {
      context: { field: '--source' },
      hint: 'pass an existing directory or an s3://bucket/prefix URL to --source',
    });
  }
  return new LocalDiskStore(location);
}

/**
 * A lake on S3 is one bucket per area by default (the seed's `landing`, `bronze`, `silver`, `gold`,
 * plus `quarantine`): `s3://` alone, or a bucket template such as `s3://acme-{layer}`; medallion's
 * bookkeeping goes under `_medallion/` in the landing bucket. `s3://bucket/prefix` keeps every area
 * in one bucket under `prefix/<area>/`. Missing buckets are created.
 */
export async function openLake(location: string, settings: StoreSettings): Promise<LakeStores> {
  if (!isS3Url(location)) {
    await mkdir(location, { recursive: true });
    return localLake(location);
  }
  const [, bucketPart = '', rest = ''] = /^s3:\/\/([^/]*)\/?(.*)$/i.exec(location.trim()) ?? [];
  const perArea = bucketPart === '' || bucketPart.includes('{layer}');
  const placeOf = (area: LakeArea): { bucket: string; prefix: string } => {
    if (perArea) {
      const bucket = (bucketPart || '{layer}').replaceAll('{layer}', area === 'system' ? 'landing' : area);
      const parsed = parseS3Url(`s3://${bucket}/${rest}`);
      return { bucket, prefix: area === 'system' ? `${parsed.prefix}_medallion/` : parsed.prefix };
    }
    const parsed = parseS3Url(location);
    return { bucket: parsed.bucket, prefix: `${parsed.prefix}${AREA_DIRECTORIES[area]}/` };
  };
  const stores = new Map(
    LAKE_AREAS.map((area) => [area, s3Store(placeOf(area).bucket, placeOf(area).prefix, settings)]),
  );
  const buckets = new Map([...stores.values()].map((store) => [store.bucket, store]));
  for (const store of buckets.values()) await store.ensureBucket();
  return {
    location,
    store(area) {
      const store = stores.get(area);
      if (!store) throw new Error(`no store for lake area ${area}`);
      return store;
    },
  };
}
