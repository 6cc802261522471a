/**
 * How Spark reaches the objects of a store: on S3 through Hadoop's s3a connector, with the store's own connection
 * given to the session as per-bucket settings; on local disk as files (a disk Spark's executors share).
 */
import { pathToFileURL } from 'node:url';
import type { ObjectStore } from '../../storage/object-store.js';
import type { S3ConnectionConfig } from '../../storage/s3-config.js';
import { S3ObjectStore } from '../../storage/s3.js';

/** A store Spark reaches: its objects' URIs, and the session settings that reach them. */
export interface SparkReach {
  uri(key: string): Promise<string>;
  /** Settings the session needs before it touches the store (none on local disk). */
  settings: Readonly<Record<string, string>>;
  /** A store Spark writes to itself (S3): staged files go there rather than through this process's disk. */
  remote: boolean;
}

export function sparkReach(store: ObjectStore): SparkReach {
  if (!(store instanceof S3ObjectStore)) {
    return {
      uri: async (key) => pathToFileURL(await store.localPath(key)).href,
      settings: {},
      remote: false,
    };
  }
  return {
    uri: async (key) => `s3a://${store.bucket}/${store.prefix}${key}`,
    settings: s3aBucketSettings(store.bucket, store.connection),
    remote: true,
  };
}

/**
 * The s3a settings of one bucket (`fs.s3a.bucket.<bucket>.*`, which s3a prefers to its global ones for that
 * bucket), under their Hadoop names: a session's settings so named go into the Hadoop configuration of its reads
 * and writes, executors included (the `spark.hadoop.` forms are read only when the server starts). Without keys
 * the cluster's own credential chain applies. Spark redacts settings named *secret*, *token* and *access.key* in
 * its UI.
 */
export function s3aBucketSettings(bucket: string, connection: S3ConnectionConfig): Record<string, string> {
  const settings: Record<string, string> = {
    'endpoint.region': connection.region,
    'path.style.access': String(connection.forcePathStyle),
  };
  if (connection.endpoint !== undefined) {
    settings.endpoint = connection.endpoint;
    settings['connection.ssl.enabled'] = String(!connection.endpoint.startsWith('http://'));
  }
  const credentials = connection.credentials;
  if (credentials) {
    settings['access.key'] = credentials.accessKeyId;
    settings['secret.key'] = credentials.secretAccessKey;
    if (credentials.sessionToken) {
      settings['session.token'] = credentials.sessionToken;
      settings['aws.credentials.provider'] = 'org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider';
    }
  }
  return Object.fromEntries(
    Object.entries(settings).map(([key, value]) => [`fs.s3a.bucket.${bucket}.${key}`, value]),
  );
}
