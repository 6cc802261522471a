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

/** `s3://bucket/some/prefix` → `{ bucket: 'bucket', prefix: 'some/prefix/' }`. */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(url.trim());
  if (!match) {
    throw new ConfigError(`not an S3 URL: "${url}"`, {
      hint: 'write it as s3://bucket or s3://bucket/prefix',
    });
  }
  const bucket = match[1] ?? '';
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) {
    throw new ConfigError(`invalid bucket name "${bucket}" in "${url}"`, {
      hint: 'bucket names are 3-63 characters: lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit',
    });
  }
  const segments = (match[2] ?? '').split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    throw new ConfigError(`the prefix in "${url}" contains "." or ".." segments`, {
      hint: 'write the prefix as plain names separated by "/"',
    });
  }
  return { bucket, prefix: segments.length > 0 ? `${segments.join('/')}/` : '' };
}

export function formatS3Url(location: S3Location, key = ''): string {
  return `s3://${location.bucket}/${location.prefix}${key}`;
}

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

const envSchema = z.object({
  endpoint: z
    .string()
    .refine((value) => /^https?:\/\/[^/\s]+/.test(value) && URL.canParse(value), {
      message: 'must be an http:// or https:// URL, e.g. http://127.0.0.1:9000',
    })
    .optional(),
  region: z
    .string()
    .regex(/^[a-z0-9-]+$/, { message: 'must look like us-east-1 (lowercase letters, digits, -)' }),
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
