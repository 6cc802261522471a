/**
 * A Spark Connect endpoint as its connection string names it, per Spark's client connection string spec:
 * `sc://host[:port][/;param=value;param=value…]`, e.g. `sc://spark.example:15002/;use_ssl=true;token=…`.
 */
export interface SparkRemote {
  host: string;
  port: number;
  /** TLS on the channel; off unless `use_ssl=true` (a loopback test server speaks plaintext). */
  useSsl: boolean;
  /** Sent as `authorization: Bearer <token>` on every call. */
  token: string | undefined;
  userId: string | undefined;
  userAgent: string | undefined;
  /** A session to join instead of a new one (a UUID). */
  sessionId: string | undefined;
  /** The endpoint without its secrets, for messages and logs. */
  display: string;
}

export const DEFAULT_SPARK_CONNECT_PORT = 15002;

const KNOWN_PARAMS = new Set(['token', 'use_ssl', 'user_id', 'user_agent', 'session_id']);

/** Parses a `sc://` connection string; throws an Error naming the fault and the expected shape. */
export function parseSparkRemote(remote: string): SparkRemote {
  const fail = (why: string): never => {
    throw new Error(
      `invalid Spark Connect address ${JSON.stringify(redact(remote))}: ${why} ` +
        '(expected sc://host[:port][/;param=value…], e.g. sc://127.0.0.1:15002)',
    );
  };
  if (!remote.startsWith('sc://')) fail('it does not start with sc://');
  const rest = remote.slice('sc://'.length);
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const tail = slash === -1 ? '' : rest.slice(slash + 1);

  const hostPort = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/;]+)(?::(\d+))?$/.exec(authority);
  if (!hostPort?.[1]) fail('no host');
  const host = hostPort?.[1] ?? '';
  const port = hostPort?.[2] === undefined ? DEFAULT_SPARK_CONNECT_PORT : Number(hostPort[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) fail(`port ${hostPort?.[2]} is out of range`);

  if (tail !== '' && !tail.startsWith(';')) fail('a path is not allowed; parameters follow "/;"');
  const params = new Map<string, string>();
  for (const part of tail.split(';').filter((p) => p !== '')) {
    const equals = part.indexOf('=');
    if (equals <= 0) fail(`parameter ${JSON.stringify(part.split('=')[0])} has no value`);
    const key = part.slice(0, equals);
    if (!KNOWN_PARAMS.has(key)) fail(`unknown parameter ${key} (known: ${[...KNOWN_PARAMS].join(', ')})`);
    params.set(key, decodeURIComponent(part.slice(equals + 1)));
  }
  const useSsl = params.get('use_ssl');
  if (useSsl !== undefined && useSsl !== 'true' && useSsl !== 'false') fail('use_ssl must be true or false');

  return {
    host,
    port,
    useSsl: useSsl === 'true',
    token: params.get('token'),
    userId: params.get('user_id'),
    userAgent: params.get('user_agent'),
    sessionId: params.get('session_id'),
    display: `sc://${host}:${port}`,
  };
}

/** The connection string with its token hidden. */
function redact(remote: string): string {
  return remote.replace(/(;token=)[^;]*/g, '$1***');
}
