import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The S3 server that tests and benchmarks run against: the MinIO `scripts/services/minio.sh`
 * starts, found from MEDALLION_TEST_S3_* in the environment or the env file the script writes.
 */
export interface TestS3Server {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** MinIO's process id when minio.sh started it. */
  pid: number | undefined;
  /** Where the server was found, for reports. */
  foundIn: string;
}

export const MINIO_ENV_FILE = path.resolve('.cache/services/minio.env');

/** Reads the `KEY='value'` lines the service scripts write. */
function readEnvFile(file: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)='(.*)'$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) values[match[1]] = match[2];
  }
  return values;
}

/** The server, or `{ reason }` when neither the environment nor the env file names one. */
export function testS3Server(env: NodeJS.ProcessEnv = process.env): TestS3Server | { reason: string } {
  const fromEnv = Boolean(env.MEDALLION_TEST_S3_ENDPOINT);
  const source: Record<string, string | undefined> = fromEnv
    ? env
    : existsSync(MINIO_ENV_FILE)
      ? readEnvFile(MINIO_ENV_FILE)
      : {};
  const endpoint = source.MEDALLION_TEST_S3_ENDPOINT;
  const accessKeyId = source.MEDALLION_TEST_S3_ACCESS_KEY;
  const secretAccessKey = source.MEDALLION_TEST_S3_SECRET_KEY;
  if (!endpoint || !accessKeyId || !secretAccessKey) {
    return {
      reason:
        'no test S3 server: MEDALLION_TEST_S3_ENDPOINT/_ACCESS_KEY/_SECRET_KEY are not set and ' +
        `${path.relative(process.cwd(), MINIO_ENV_FILE)} does not exist; run \`bash scripts/services/minio.sh start\``,
    };
  }
  const pid = Number(source.MINIO_PID);
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    region: source.MEDALLION_TEST_S3_REGION ?? 'us-east-1',
    pid: Number.isInteger(pid) && pid > 0 ? pid : undefined,
    foundIn: fromEnv
      ? 'MEDALLION_TEST_S3_* environment variables'
      : path.relative(process.cwd(), MINIO_ENV_FILE),
  };
}

/** The environment that points medallion's own S3 settings (MEDALLION_S3_*) at the server. */
export function s3EnvFor(
  server: Pick<TestS3Server, 'endpoint' | 'region' | 'accessKeyId' | 'secretAccessKey'>,
  cacheDir: string,
): NodeJS.ProcessEnv {
  return {
    MEDALLION_S3_ENDPOINT: server.endpoint,
    MEDALLION_S3_REGION: server.region,
    MEDALLION_S3_ACCESS_KEY: server.accessKeyId,
    MEDALLION_S3_SECRET_KEY: server.secretAccessKey,
    MEDALLION_S3_PATH_STYLE: 'true',
    MEDALLION_CACHE_DIR: cacheDir,
  };
}
