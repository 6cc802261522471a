import { z } from 'zod';
import { ConfigError } from '../core/errors.js';

/** Where on S3: a bucket and a key prefix inside it ('' or ending in '/'). */
export interface S3Location {
  bucket: string;
  prefix: string;
}

/** How to reach an S3 service; what `S3ObjectStore` needs besides the bucket. */
export interface S3ConnectionConfig {
  /** Custom endpoint (MinIO, Ceph…); undefined means AWS S3 itself. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Undefined: the AWS SDK's default chain (profile, SSO, instance role…). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

// S3's bucket naming rules (the common subset AWS and MinIO both accept).
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function isS3Url(value: string): boolean {
  return /^s3:\/\//i.test(value);
}

/** A connection name in `s3://NAME@bucket`: lower_snake_case or kebab-case. */
export const CONNECTION_NAME = /^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*$/;

/** The parts of an S3 URL before any check of the bucket: `s3://[NAME@]bucketPart[/rest]`. */
export interface S3UrlParts {
  /** The named connection to reach the bucket with; undefined: the environment's settings. */
  connection?: string;
  bucketPart: string;
  rest: string;
}

/**
 * Splits `s3://NAME@bucket/prefix`. Rejects a password in the URL (`NAME:secret@`) without echoing it, and
 * connection names that are not lower_snake_case or kebab-case.
 */
export function splitS3Url(url: string): S3UrlParts {
  const match = /^s3:\/\/(?:([^/@]*)@)?([^/]*)(?:\/(.*))?$/i.exec(url.trim());
  if (!match) {
    if (/^s3:\/\/[^/]*@[^/]*@/i.test(url.trim()) || /^s3:\/\/[^/@]*:[^/@]*@/i.test(url.trim())) {
      throw passwordInUrl();
    }
    throw new ConfigError(`not an S3 URL: "${url}"`, {
      hint: 'write it as s3://bucket, s3://bucket/prefix or s3://CONNECTION@bucket/prefix',
    });
  }
  const [, userinfo, bucketPart = '', rest = ''] = match;
  if (userinfo === undefined) return { bucketPart, rest };
  if (userinfo.includes(':')) throw passwordInUrl();
  if (!CONNECTION_NAME.test(userinfo)) {
    throw new ConfigError(`invalid connection name "${userinfo}" in an S3 URL`, {
      hint: 'connection names are lower_snake_case or kebab-case, e.g. s3://minio-local@bucket/prefix',
    });
  }
  return { connection: userinfo, bucketPart, rest };
}

function passwordInUrl(): ConfigError {
  // The URL is not quoted: what follows the ':' is a secret.
  return new ConfigError(
    'an S3 URL must not hold a password: put credentials in a connection, not in the URL',
    {
      hint: 'medallion connections add NAME … --secret-from-env VAR, then use s3://NAME@bucket/prefix',
    },
  );
}

/**
 * `s3://bucket/some/prefix` → `{ bucket: 'bucket', prefix: 'some/prefix/' }`; `s3://NAME@bucket/prefix` also
 * gives `connection: 'NAME'`.
 */
export function parseS3Url(url: string): S3Location & { connection?: string } {
  const { connection, bucketPart: bucket, rest } = splitS3Url(url);
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) {
    throw new ConfigError(`invalid bucket name "${bucket}" in "${url}"`, {
      hint: 'bucket names are 3-63 characters: lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit',
    });
  }
  const segments = rest.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    throw new ConfigError(`the prefix in "${url}" contains "." or ".." segments`, {
      hint: 'write the prefix as plain names separated by "/"',
    });
  }
  return {
    ...(connection !== undefined && { connection }),
    bucket,
    prefix: segments.length > 0 ? `${segments.join('/')}/` : '',
  };
}

export function formatS3Url(location: S3Location, key = ''): string {
  return `s3://${location.bucket}/${location.prefix}${key}`;
}

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

/** An S3 endpoint setting: an http(s) URL. */
export const S3_ENDPOINT = z
  .string()
  .refine((value) => /^https?:\/\/[^/\s]+/.test(value) && URL.canParse(value), {
    message: 'must be an http:// or https:// URL, e.g. http://127.0.0.1:9000',
  });

/** An S3 region setting, e.g. us-east-1. */
export const S3_REGION = z
  .string()
  .regex(/^[a-z0-9-]+$/, { message: 'must look like us-east-1 (lowercase letters, digits, -)' });

const envSchema = z.object({
  endpoint: S3_ENDPOINT.optional(),
  region: S3_REGION,
  pathStyle: z
    .string()
    .refine((value) => [...TRUE, ...FALSE].includes(value.toLowerCase()), {
      message: 'must be true or false',
    })
    .optional(),
  accessKeyId: z.string().min(1, { message: 'is empty' }).optional(),
  secretAccessKey: z.string().min(1, { message: 'is empty' }).optional(),
  sessionToken: z.string().optional(),
});
type EnvField = keyof z.infer<typeof envSchema>;

// For each field: medallion's own variable first, then the standard AWS ones.
const SOURCES: Record<EnvField, readonly string[]> = {
  endpoint: ['MEDALLION_S3_ENDPOINT', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'],
  region: ['MEDALLION_S3_REGION', 'AWS_REGION', 'AWS_DEFAULT_REGION'],
  pathStyle: ['MEDALLION_S3_PATH_STYLE'],
  accessKeyId: ['MEDALLION_S3_ACCESS_KEY', 'AWS_ACCESS_KEY_ID'],
  secretAccessKey: ['MEDALLION_S3_SECRET_KEY', 'AWS_SECRET_ACCESS_KEY'],
  sessionToken: ['MEDALLION_S3_SESSION_TOKEN', 'AWS_SESSION_TOKEN'],
};

/**
 * Reads the S3 connection from the environment: MEDALLION_S3_* first, then the standard AWS variables.
 * Throws one ConfigError naming every bad variable.
 */
export function s3ConfigFromEnv(env: NodeJS.ProcessEnv = process.env): S3ConnectionConfig {
  const raw: Partial<Record<EnvField, string>> = {};
  const from: Partial<Record<EnvField, string>> = {};
  for (const [field, names] of Object.entries(SOURCES) as [EnvField, readonly string[]][]) {
    const name = names.find((candidate) => env[candidate] !== undefined && env[candidate] !== '');
    if (name !== undefined) {
      raw[field] = env[name]?.trim();
      from[field] = name;
    }
  }
  raw.region ??= 'us-east-1';
  from.region ??= 'MEDALLION_S3_REGION';

  const problems: string[] = [];
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path[0] as EnvField;
      problems.push(`${from[field] ?? field}=${JSON.stringify(raw[field] ?? '')} ${issue.message}`);
    }
  }
  if ((raw.accessKeyId === undefined) !== (raw.secretAccessKey === undefined)) {
    const missing = raw.accessKeyId === undefined ? SOURCES.accessKeyId : SOURCES.secretAccessKey;
    const present = from.accessKeyId ?? from.secretAccessKey;
    problems.push(`${present} is set but ${missing.join(' / ')} is not: set both or neither`);
  }
  if (!parsed.success || problems.length > 0) {
    throw new ConfigError(`invalid S3 settings in the environment:\n  - ${problems.join('\n  - ')}`, {
      context: { field: 'S3 environment' },
      hint: 'fix or unset the variables above; MEDALLION_S3_* take precedence over AWS_*',
    });
  }
  const value = parsed.data;
  const pathStyle = value.pathStyle === undefined ? undefined : TRUE.includes(value.pathStyle.toLowerCase());
  return {
    ...(value.endpoint !== undefined ? { endpoint: value.endpoint.replace(/\/+$/, '') } : {}),
    region: value.region,
    // Custom endpoints (MinIO and friends) rarely have wildcard DNS for virtual-hosted buckets.
    forcePathStyle: pathStyle ?? value.endpoint !== undefined,
    ...(value.accessKeyId !== undefined && value.secretAccessKey !== undefined
      ? {
          credentials: {
            accessKeyId: value.accessKeyId,
            secretAccessKey: value.secretAccessKey,
            ...(value.sessionToken ? { sessionToken: value.sessionToken } : {}),
          },
        }
      : {}),
  };
}
