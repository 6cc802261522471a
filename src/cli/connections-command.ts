/** `medallion connections add|list|remove|test`: flags and secrets read here, the work in app/connections.ts. */
import {
  listConnections,
  putS3Connection,
  removeConnection,
  storeConnections,
  testConnection,
  type ConnectionResolver,
} from '../app/connections.js';
import { ConfigError } from '../core/errors.js';
import type { Project } from '../project/project.js';
import { EXIT } from './exit.js';
import { note, print } from './output.js';
import { openStore, withApp, type StoreFlags } from './project-context.js';
import { table } from './render.js';

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
  await withApp(flags, async (ctx) => {
    const { replaced } = await putS3Connection(ctx, {
      name,
      ...(flags.endpoint !== undefined && { endpoint: flags.endpoint }),
      region: flags.region,
      ...(flags.pathStyle !== undefined && { pathStyle: flags.pathStyle }),
      accessKeyId: flags.accessKeyId,
      secretAccessKey: await secretOf(flags),
    });
    note(`${replaced ? 'replaced' : 'added'} connection ${name}: use it as s3://${name}@bucket/prefix`);
  });
}

export async function listConnectionsCommand(flags: StoreFlags): Promise<void> {
  await withApp(flags, async (ctx) => {
    const connections = await listConnections(ctx);
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
  await withApp(flags, async (ctx) => {
    await removeConnection(ctx, name);
    note(`removed connection ${name}`);
  });
}

export async function testConnectionCommand(
  name: string,
  flags: StoreFlags & { bucket?: string },
): Promise<void> {
  await withApp(flags, async (ctx) => {
    const result = await testConnection(ctx, name, flags.bucket);
    print(flags.json, result, () => `${name}: ${result.ok ? 'ok' : 'FAILED'}: ${result.detail}`);
    if (!result.ok) process.exitCode = EXIT.runFailed;
  });
}
