import { ObjectStoreError } from './object-store.js';

/** What an S3 call was about, for messages: `GetObject s3://bucket/key at http://127.0.0.1:9000`. */
export interface S3CallScope {
  operation: string;
  /** The endpoint as the user configured it, or AWS's regional endpoint. */
  endpoint: string;
  bucket: string;
  /** Full key (store prefix included), when the call is about one object or prefix. */
  key?: string;
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

export interface S3ErrorFacts {
  name: string;
  code: string | undefined;
  status: number | undefined;
  attempts: number | undefined;
  message: string;
}

export function s3ErrorFacts(error: unknown): S3ErrorFacts {
  const shape: SdkErrorShape = typeof error === 'object' && error !== null ? (error as SdkErrorShape) : {};
  return {
    name: shape.name ?? 'Error',
    code: shape.code,
    status: shape.$metadata?.httpStatusCode,
    attempts: shape.$metadata?.attempts,
    message: shape.message ?? String(error),
  };
}

export const isNotFound = (error: unknown): boolean => {
  const { name, status } = s3ErrorFacts(error);
  return name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchBucket');
};

export const isNoSuchBucket = (error: unknown): boolean => s3ErrorFacts(error).name === 'NoSuchBucket';

/** If-None-Match / If-Match lost: 412, or 409 when a concurrent conditional write is still in flight. */
export const isPreconditionFailed = (error: unknown): boolean => {
  const { name, status } = s3ErrorFacts(error);
  return status === 412 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict';
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** A failure of the connection itself (not an S3 answer), worth retrying a streamed body for. */
export function isNetworkFailure(error: unknown): boolean {
  const { name, code, status } = s3ErrorFacts(error);
  return status === undefined && (name === 'TimeoutError' || (code !== undefined && NETWORK_CODES.has(code)));
}

const TRANSIENT_ERRORS = new Set([
  'RequestTimeout',
  'RequestTimeoutException',
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'InternalError',
]);

/** Worth trying again: a broken connection, a 5xx, throttling or a server-side timeout. */
export function isTransient(error: unknown): boolean {
  const { name, status } = s3ErrorFacts(error);
  return (
    isNetworkFailure(error) ||
    TRANSIENT_ERRORS.has(name) ||
    (status !== undefined && (status >= 500 || status === 429))
  );
}

/** Exponential backoff with full jitter before attempt `attempt + 1` (100 ms, 200 ms, … up to 20 s). */
export function backoffMs(attempt: number): number {
  return Math.random() * Math.min(20_000, 100 * 2 ** attempt);
}

const CREDENTIAL_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'InvalidSecurity',
]);

const CREDENTIAL_HINT =
  'check MEDALLION_S3_ACCESS_KEY and MEDALLION_S3_SECRET_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) for this endpoint';

/** One clear ObjectStoreError for a failed S3 call: what was attempted, where, why, and what to try. */
export function describeS3Failure(error: unknown, scope: S3CallScope): ObjectStoreError {
  const facts = s3ErrorFacts(error);
  const { name, code, status, attempts } = facts;
  const url = `s3://${scope.bucket}/${scope.key ?? ''}`;
  const what = `${scope.operation} ${url} at ${scope.endpoint}`;
  const tries = attempts !== undefined && attempts > 1 ? ` after ${attempts} attempts` : '';
  const make = (reason: string, hint: string): ObjectStoreError =>
    new ObjectStoreError(`${what} failed: ${reason}`, { context: { file: url }, hint, cause: error });

  if (name === 'CredentialsProviderError') {
    return make(
      'no S3 credentials were found',
      `set MEDALLION_S3_ACCESS_KEY and MEDALLION_S3_SECRET_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`,
    );
  }
  if (CREDENTIAL_ERRORS.has(name)) {
    return make(`the endpoint rejected the credentials (${name})`, CREDENTIAL_HINT);
  }
  if (name === 'NoSuchBucket') {
    return make(
      `the bucket "${scope.bucket}" does not exist`,
      `create it (e.g. \`medallion\` creates lake buckets when missing, or \`mc mb\` / \`aws s3 mb s3://${scope.bucket}\`), or fix the bucket in the URL`,
    );
  }
  if (name === 'AccessDenied' || status === 403) {
    return make(
      `access denied (HTTP 403${name !== 'Forbidden' && name !== '403' ? `, ${name}` : ''})`,
      `${CREDENTIAL_HINT}, and that the key is allowed to ${scope.operation} in bucket "${scope.bucket}"`,
    );
  }
  if (status === undefined && (name === 'TimeoutError' || (code !== undefined && NETWORK_CODES.has(code)))) {
    const detail = code ?? name;
    return make(
      `cannot reach the S3 endpoint (${detail}${tries})`,
      `is the server running and reachable? check MEDALLION_S3_ENDPOINT (or AWS_ENDPOINT_URL); for a local MinIO run scripts/services/minio.sh start`,
    );
  }
  if (status !== undefined && status >= 500) {
    return make(
      `the server answered HTTP ${status} (${name})${tries}`,
      'the S3 server is failing or overloaded; retry later, or raise maxAttempts',
    );
  }
  return make(
    `${name}${status !== undefined ? ` (HTTP ${status})` : ''}: ${facts.message}${tries}`,
    'see the cause for the server’s answer',
  );
}
