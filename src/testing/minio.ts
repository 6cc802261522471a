import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The MinIO (or other S3 server) that tests run against, from scripts/services/minio.sh. */
export interface TestS3Server {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export const MINIO_ENV_FILE = path.resolve('.cache/services/minio.env');

/** Reads the `KEY='value'` lines minio.sh writes. */
function readEnvFile(file: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)='(.*)'$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) values[match[1]] = match[2];
  }
  return values;
}

/**
 * The test S3 server from MEDALLION_TEST_S3_* in the environment, else from .cache/services/minio.env;
 * `{ reason }` when neither names one.
 */
export function testS3Server(env: NodeJS.ProcessEnv = process.env): TestS3Server | { reason: string } {
  const source: Record<string, string | undefined> = env.MEDALLION_TEST_S3_ENDPOINT
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
  return { endpoint, accessKeyId, secretAccessKey, region: source.MEDALLION_TEST_S3_REGION ?? 'us-east-1' };
}

/** A bucket name no earlier run used. */
export function freshBucketName(label = 'test'): string {
  const random = Math.random().toString(36).slice(2, 8);
  return `medallion-${label}-${Date.now().toString(36)}-${random}`.toLowerCase().slice(0, 63);
}

/** The environment that points medallion's own S3 settings (MEDALLION_S3_*) at the test server. */
export function s3EnvFor(server: TestS3Server, cacheDir: string): NodeJS.ProcessEnv {
  return {
    MEDALLION_S3_ENDPOINT: server.endpoint,
    MEDALLION_S3_REGION: server.region,
    MEDALLION_S3_ACCESS_KEY: server.accessKeyId,
    MEDALLION_S3_SECRET_KEY: server.secretAccessKey,
    MEDALLION_S3_PATH_STYLE: 'true',
    MEDALLION_CACHE_DIR: cacheDir,
  };
}

/**
 * The test server, or undefined when there is none and the suite should skip (with a warning).
 * Under CI a missing server is an error: suites that need S3 must not silently skip there.
 */
export function s3ServerOrSkip(suite: string): TestS3Server | undefined {
  const server = testS3Server();
  if (!('reason' in server)) return server;
  if (process.env.CI === 'true') throw new Error(`${suite}: CI=true but ${server.reason}`);
  console.warn(`${suite} skipped: ${server.reason}`);
  return undefined;
}
