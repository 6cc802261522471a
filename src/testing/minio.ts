import { testS3Server, type TestS3Server } from '../services/test-s3-server.js';

export { MINIO_ENV_FILE, s3EnvFor, testS3Server, type TestS3Server } from '../services/test-s3-server.js';

/** A bucket name no earlier run used. */
export function freshBucketName(label = 'test'): string {
  const random = Math.random().toString(36).slice(2, 8);
  return `medallion-${label}-${Date.now().toString(36)}-${random}`.toLowerCase().slice(0, 63);
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
