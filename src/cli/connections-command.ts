/**
 * Named connections: `medallion connections add|list|remove`, and the resolver that lets `--source` and
 * `--lake` say `s3://NAME@bucket/prefix`. The store keeps each connection's settings as JSON and its secret
 * sealed by src/security/secret-box.ts; no message, listing or log shows a secret.
 */
import { z } from 'zod';
import { ConfigError, MedallionError } from '../core/errors.js';
import type { ConnectionRecord, MetadataStore } from '../metadata/metadata-store.js';
import { openSecretBox, type SecretBox } from '../security/secret-box.js';
import { CONNECTION_NAME, S3_ENDPOINT, S3_REGION, type S3ConnectionConfig } from '../storage/s3-config.js';
import type { Project } from '../project/project.js';
import type { ConnectionResolver } from './locations.js';
import { note, print } from './output.js';
import { openStore, withStore, type StoreFlags } from './project-context.js';
import { table } from './render.js';

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

/** For commands without a store of their own: opens the metadata database only when a connection is named. */
export function databaseConnections(project: Project, flags: StoreFlags): ConnectionResolver {
  return async (name) => {
    const store = await openStore(project, flags);
    try {
      return await storeConnections(store)(name);
    } finally {
      await store.close();
    }
  };
}

/** `AKIAIOSFODNN7EXAMPLE` → `****MPLE` (short ids: `****`). */
export function maskKeyId(keyId: string): string {
  return keyId.length <= 4 ? '****' : `****${keyId.slice(-4)}`;
}

export interface AddConnectionFlags extends StoreFlags {
  endpoint?: string;
  region: string;
  pathStyle?: boolean;
  accessKeyId: string;
  secretFromEnv?: string;
  secretStdin?: boolean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function secretOf(flags: AddConnectionFlags): Promise<string> {
  if ((flags.secretFromEnv === undefined) === !flags.secretStdin) {
    throw new ConfigError('give the secret access key one way: --secret-from-env VAR or --secret-stdin', {
      context: { field: '--secret-from-env' },
      hint: 'the secret is never a flag value, so that it stays out of shell history and process lists',
    });
  }
  const secret =
    flags.secretFromEnv !== undefined
      ? (process.env[flags.secretFromEnv] ?? '')
      : (await readStdin()).replace(/\r?\n$/, '');
  if (secret.trim() === '') {
    throw new ConfigError(
      flags.secretFromEnv !== undefined
        ? `the environment variable ${flags.secretFromEnv} is not set or empty`
        : 'no secret on standard input',
      { context: { field: flags.secretFromEnv !== undefined ? '--secret-from-env' : '--secret-stdin' } },
    );
  }
  return secret;
}

export async function addConnectionCommand(name: string, flags: AddConnectionFlags): Promise<void> {
  await withStore(flags, async (store) => {
    if (!CONNECTION_NAME.test(name)) {
      throw new ConfigError(`invalid connection name "${name}"`, {
        hint: 'connection names are lower_snake_case or kebab-case, e.g. minio-local',
      });
    }
    const endpoint = flags.endpoint?.replace(/\/+$/, '');
    const parsed = s3Settings.safeParse({
      ...(endpoint !== undefined && { endpoint }),
      region: flags.region,
      // As with the environment: custom endpoints (MinIO and friends) rarely have virtual-hosted buckets.
      forcePathStyle: flags.pathStyle ?? endpoint !== undefined,
      accessKeyId: flags.accessKeyId,
    });
    if (!parsed.success) {
      throw new ConfigError(`invalid connection settings: ${z.prettifyError(parsed.error)}`);
    }
    const secret = await secretOf(flags);
    const box = await openSecretBox({ create: true });
    const existed = (await store.getConnection(name)) !== undefined;
    await store.putConnection({ name, kind: 's3', config: parsed.data, secret: box.seal(secret) });
    note(`${existed ? 'replaced' : 'added'} connection ${name}: use it as s3://${name}@bucket/prefix`);
  });
}

export async function listConnectionsCommand(flags: StoreFlags): Promise<void> {
  await withStore(flags, async (store) => {
    const connections = (await store.listConnections()).map((record) => {
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
    print(flags.json, connections, () =>
      connections.length === 0
        ? 'no connections (add one with `medallion connections add NAME …`)'
        : table(
            ['NAME', 'KIND', 'ENDPOINT', 'REGION', 'PATH STYLE', 'ACCESS KEY ID', 'UPDATED'],
            connections.map((connection) => [
              connection.name,
              connection.kind,
              connection.endpoint ?? '(AWS)',
              connection.region ?? '—',
              connection.forcePathStyle ? 'yes' : 'no',
              connection.accessKeyId ?? '—',
              connection.updatedAt.slice(0, 19).replace('T', ' '),
            ]),
            ['NAME', 'KIND', 'ENDPOINT', 'REGION', 'ACCESS KEY ID'],
          ),
    );
  });
}

export async function removeConnectionCommand(name: string, flags: StoreFlags): Promise<void> {
  await withStore(flags, async (store) => {
    if (!(await store.deleteConnection(name))) {
      throw new ConfigError(`no connection named "${name}"`, { hint: 'see `medallion connections list`' });
    }
    note(`removed connection ${name}`);
  });
}
