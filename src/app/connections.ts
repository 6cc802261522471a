/**
 * Named connections: kept in the metadata store as settings in clear and a secret sealed by
 * src/security/secret-box.ts; listed without secrets; tested; and resolved for `s3://NAME@bucket/prefix` locations.
 * No message, listing or log shows a secret.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, MedallionError } from '../core/errors.js';
import type { ConnectionRecord, MetadataStore } from '../metadata/metadata-store.js';
import { openSecretBox, type SecretBox } from '../security/secret-box.js';
import { CONNECTION_NAME, S3_ENDPOINT, S3_REGION, type S3ConnectionConfig } from '../storage/s3-config.js';
import type { AppContext } from './context.js';

import type { ConnectionResolver } from '../project/locations.js';

export type { ConnectionResolver } from '../project/locations.js';

/** What an S3 connection keeps in clear: everything but the secret access key. */
const s3Settings = z.object({
  endpoint: S3_ENDPOINT.optional(),
  region: S3_REGION,
  forcePathStyle: z.boolean(),
  accessKeyId: z.string().min(1, { message: 'is empty' }),
});
type S3Settings = z.infer<typeof s3Settings>;

function readSettings(record: ConnectionRecord): S3Settings {
  if (record.kind !== 's3') {
    throw new ConfigError(`connection "${record.name}" is of kind ${record.kind}, not s3`);
  }
  const parsed = s3Settings.safeParse(record.config);
  if (!parsed.success) {
    throw new ConfigError(
      `connection "${record.name}" has unreadable settings: ${z.prettifyError(parsed.error)}`,
      {
        hint: `add it again: medallion connections add ${record.name} …`,
      },
    );
  }
  return parsed.data;
}

/**
 * Looks connections up in the store, opening their secrets with the secret key (MEDALLION_SECRET_KEY or the key
 * file); each connection once.
 */
export function storeConnections(
  store: MetadataStore,
  env: NodeJS.ProcessEnv = process.env,
): ConnectionResolver {
  let box: Promise<SecretBox> | undefined;
  const resolved = new Map<string, Promise<S3ConnectionConfig>>();
  const resolve = async (name: string): Promise<S3ConnectionConfig> => {
    const record = await store.getConnection(name);
    if (!record) {
      throw new ConfigError(`no connection named "${name}"`, {
        hint: 'see `medallion connections list` (with the same --db), or add it with `medallion connections add`',
      });
    }
    const settings = readSettings(record);
    let secretAccessKey: string;
    try {
      if (record.secret === null) throw new ConfigError('it has no secret');
      box ??= openSecretBox({ env });
      secretAccessKey = (await box).open(record.secret);
    } catch (error) {
      if (!(error instanceof MedallionError)) throw error;
      throw new ConfigError(`connection "${name}": ${error.message}`, {
        ...(error.hint !== undefined && { hint: error.hint }),
      });
    }
    return {
      ...(settings.endpoint !== undefined && { endpoint: settings.endpoint }),
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      credentials: { accessKeyId: settings.accessKeyId, secretAccessKey },
    };
  };
  return (name) => {
    let config = resolved.get(name);
    if (!config) {
      config = resolve(name);
      resolved.set(name, config);
    }
    return config;
  };
}

/** `AKIAIOSFODNN7EXAMPLE` → `****MPLE` (short ids: `****`). */
export function maskKeyId(keyId: string): string {
  return keyId.length <= 4 ? '****' : `****${keyId.slice(-4)}`;
}

/** What a listing shows of a connection: never its secret. */
export interface ConnectionView {
  name: string;
  kind: string;
  endpoint: string | null;
  region: string | null;
  forcePathStyle: boolean | null;
  /** Masked: its last 4 characters. */
  accessKeyId: string | null;
  createdAt: string;
  updatedAt: string;
}

export async function listConnections(ctx: AppContext): Promise<ConnectionView[]> {
  return (await ctx.store.listConnections()).map((record) => {
    const config = record.config as Partial<S3Settings>;
    return {
      name: record.name,
      kind: record.kind,
      endpoint: config.endpoint ?? null,
      region: config.region ?? null,
      forcePathStyle: config.forcePathStyle ?? null,
      accessKeyId: typeof config.accessKeyId === 'string' ? maskKeyId(config.accessKeyId) : null,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    };
  });
}

export interface NewS3Connection {
  name: string;
  endpoint?: string;
  region: string;
  /** Default: on with an endpoint (MinIO and friends rarely have virtual-hosted buckets). */
  pathStyle?: boolean;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Adds (or replaces) a connection, its secret sealed; returns whether one of that name existed. */
export async function putS3Connection(
  ctx: AppContext,
  input: NewS3Connection,
): Promise<{ replaced: boolean }> {
  if (!CONNECTION_NAME.test(input.name)) {
    throw new ConfigError(`invalid connection name "${input.name}"`, {
      context: { field: 'name' },
      hint: 'connection names are lower_snake_case or kebab-case, e.g. minio-local',
    });
  }
  const endpoint = input.endpoint?.replace(/\/+$/, '');
  const parsed = s3Settings.safeParse({
    ...(endpoint !== undefined && { endpoint }),
    region: input.region,
    forcePathStyle: input.pathStyle ?? endpoint !== undefined,
    accessKeyId: input.accessKeyId,
  });
  if (!parsed.success) {
    throw new ConfigError(`invalid connection settings: ${z.prettifyError(parsed.error)}`);
  }
  if (input.secretAccessKey.trim() === '') {
    throw new ConfigError('the secret access key is empty', { context: { field: 'secretAccessKey' } });
  }
  const box = await openSecretBox({ create: true });
  const replaced = (await ctx.store.getConnection(input.name)) !== undefined;
  await ctx.store.putConnection({
    name: input.name,
    kind: 's3',
    config: parsed.data,
    secret: box.seal(input.secretAccessKey),
  });
  return { replaced };
}

export async function removeConnection(ctx: AppContext, name: string): Promise<void> {
  if (!(await ctx.store.deleteConnection(name))) {
    throw new ConfigError(`no connection named "${name}"`, { hint: 'see `medallion connections list`' });
  }
}

/**
 * Whether the connection's endpoint answers and accepts its credentials: a request for a bucket (the one named, or
 * one that surely does not exist, which a server accepting the credentials answers with "no such bucket").
 */
export async function testConnection(
  ctx: AppContext,
  name: string,
  bucket?: string,
): Promise<{ ok: boolean; detail: string }> {
  const config = await storeConnections(ctx.store)(name);
  const { S3ObjectStore } = await import('../storage/s3.js');
  const { storeSettings } = await import('../project/locations.js');
  const probe = bucket ?? `medallion-probe-${randomBytes(6).toString('hex')}`;
  // A probe reads no object, but every S3 store has a download cache: the one the environment names.
  const { cacheDir, cacheMaxBytes } = storeSettings(process.env);
  const store = new S3ObjectStore({ bucket: probe, ...config, maxAttempts: 1, cacheDir, cacheMaxBytes });
  try {
    await store.verify();
    return { ok: true, detail: `bucket ${probe} is reachable with these credentials` };
  } catch (error) {
    const message = error instanceof MedallionError ? error.message : String(error);
    if (bucket === undefined && /NoSuchBucket|does not exist/i.test(message)) {
      return { ok: true, detail: 'the endpoint answers and accepts the credentials' };
    }
    return { ok: false, detail: message };
  }
}
