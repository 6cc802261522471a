import { mkdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { LocationOpener } from '../runner/pipeline-task-runner.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import type { ObjectStore } from '../storage/object-store.js';
import {
  isS3Url,
  parseS3Url,
  s3ConfigFromEnv,
  splitS3Url,
  type S3ConnectionConfig,
} from '../storage/s3-config.js';
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
 * the MEDALLION_S3_* / AWS_* settings of the environment, or those of a named connection
 * (`s3://NAME@bucket/prefix`). Problems are reported at start, once each.
 */
export interface StoreSettings {
  env: NodeJS.ProcessEnv;
  /** Looks a named connection up (`s3://NAME@…`); absent: named connections cannot be used. */
  connections?: ConnectionResolver;
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

/** Looks a named connection up (`s3://NAME@…`); a ConfigError naming it when there is none. */
export type ConnectionResolver = (name: string) => Promise<S3ConnectionConfig>;

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
export function storeSettings(
  env: NodeJS.ProcessEnv = process.env,
  connections?: ConnectionResolver,
): StoreSettings {
  const partSizeMb = envInteger(env, 'MEDALLION_S3_PART_SIZE_MB', 5);
  const queueSize = envInteger(env, 'MEDALLION_S3_CONCURRENCY', 1);
  const maxAttempts = envInteger(env, 'MEDALLION_S3_MAX_ATTEMPTS', 1);
  return {
    env,
    ...(connections && { connections }),
    cacheDir: env.MEDALLION_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'medallion', 'objects'),
    cacheMaxBytes: envInteger(env, 'MEDALLION_CACHE_MAX_BYTES', 1) ?? 20 * GiB,
    s3: {
      ...(partSizeMb === undefined ? {} : { partSizeBytes: partSizeMb * 1024 * 1024 }),
      ...(queueSize === undefined ? {} : { queueSize }),
      ...(maxAttempts === undefined ? {} : { maxAttempts }),
    },
  };
}

/** How to reach S3 for a location: its named connection's settings, or the environment's. */
async function s3Connection(
  connection: string | undefined,
  settings: StoreSettings,
): Promise<S3ConnectionConfig> {
  if (connection === undefined) return s3ConfigFromEnv(settings.env);
  if (!settings.connections) {
    throw new ConfigError(
      `connection "${connection}" cannot be used here: this command does not read connections`,
      {
        hint: 'use an s3://bucket/prefix URL with the MEDALLION_S3_* / AWS_* variables',
      },
    );
  }
  return settings.connections(connection);
}

function s3Store(
  bucket: string,
  prefix: string,
  config: S3ConnectionConfig,
  settings: StoreSettings,
): S3ObjectStore {
  return new S3ObjectStore({
    bucket,
    prefix,
    ...config,
    cacheDir: settings.cacheDir,
    cacheMaxBytes: settings.cacheMaxBytes,
    ...settings.s3,
  });
}

export async function openSource(location: string, settings: StoreSettings): Promise<ObjectStore> {
  if (isS3Url(location)) {
    const { bucket, prefix, connection } = parseS3Url(location);
    const store = s3Store(bucket, prefix, await s3Connection(connection, settings), settings);
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
 * Where backups are kept: a directory, or `s3://[NAME@]bucket/prefix`. `create`: the directory or bucket is
 * made when missing (a backup); otherwise it must exist (a restore).
 */
export async function openBackupLocation(
  location: string,
  settings: StoreSettings,
  options: { create: boolean },
): Promise<ObjectStore> {
  if (!isS3Url(location)) {
    if (options.create) await mkdir(location, { recursive: true });
    else if (!(await stat(location).catch(() => undefined))?.isDirectory()) {
      throw new ConfigError(`${location} is not a directory`, {
        context: { field: '--from' },
        hint: 'pass the directory or s3:// URL that `medallion backup --to` wrote',
      });
    }
    return new LocalDiskStore(location);
  }
  const { bucket, prefix, connection } = parseS3Url(location);
  const store = s3Store(bucket, prefix, await s3Connection(connection, settings), settings);
  await (options.create ? store.ensureBucket() : store.verify());
  return store;
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
  const { connection, bucketPart, rest } = splitS3Url(location);
  const user = connection === undefined ? '' : `${connection}@`;
  const perArea = bucketPart === '' || bucketPart.includes('{layer}');
  const placeOf = (area: LakeArea): { bucket: string; prefix: string } => {
    if (perArea) {
      const bucket = (bucketPart || '{layer}').replaceAll('{layer}', area === 'system' ? 'landing' : area);
      const parsed = parseS3Url(`s3://${user}${bucket}/${rest}`);
      return { bucket, prefix: area === 'system' ? `${parsed.prefix}_medallion/` : parsed.prefix };
    }
    const parsed = parseS3Url(location);
    return { bucket: parsed.bucket, prefix: `${parsed.prefix}${AREA_DIRECTORIES[area]}/` };
  };
  for (const area of LAKE_AREAS) placeOf(area); // a bad location fails before any connection is looked up
  const config = await s3Connection(connection, settings);
  const stores = new Map(
    LAKE_AREAS.map((area) => [area, s3Store(placeOf(area).bucket, placeOf(area).prefix, config, settings)]),
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

/** Opens the locations runs record, with these settings (environment and named connections). */
export function locationOpener(settings: StoreSettings): LocationOpener {
  return {
    source: (location) => openSource(location, settings),
    lake: (location) => openLake(location, settings),
  };
}
