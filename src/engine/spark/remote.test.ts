import { describe, expect, it } from 'vitest';
import { parseSparkRemote } from './remote.js';

describe('Spark Connect connection strings', () => {
  it('take the host and port, and default to port 15002 in plaintext', () => {
    expect(parseSparkRemote('sc://127.0.0.1:15010')).toMatchObject({
      host: '127.0.0.1',
      port: 15010,
      useSsl: false,
      token: undefined,
      display: 'sc://127.0.0.1:15010',
    });
    expect(parseSparkRemote('sc://spark.example')).toMatchObject({
      port: 15002,
      display: 'sc://spark.example:15002',
    });
  });

  it('read the parameters after "/;"', () => {
    const remote = parseSparkRemote(
      'sc://spark.example:443/;use_ssl=true;token=abc%3D;user_id=etl;session_id=0c7f3b6e-6b0a-4a4e-9d59-4f8e8a0e9c11',
    );
    expect(remote).toMatchObject({
      useSsl: true,
      token: 'abc=',
      userId: 'etl',
      sessionId: '0c7f3b6e-6b0a-4a4e-9d59-4f8e8a0e9c11',
    });
    expect(remote.display).not.toContain('abc');
  });

  it('accept a bracketed IPv6 host', () => {
    expect(parseSparkRemote('sc://[::1]:15002')).toMatchObject({ host: '[::1]', port: 15002 });
  });

  it('reject other schemes, paths, unknown parameters and bad values, hiding the token', () => {
    expect(() => parseSparkRemote('http://127.0.0.1:15002')).toThrow(/does not start with sc:\/\//);
    expect(() => parseSparkRemote('sc://host:15002/db')).toThrow(/a path is not allowed/);
    expect(() => parseSparkRemote('sc://host/;colour=blue')).toThrow(/unknown parameter colour/);
    expect(() => parseSparkRemote('sc://host/;use_ssl=yes')).toThrow(/use_ssl must be true or false/);
    expect(() => parseSparkRemote('sc://host:99999')).toThrow(/out of range/);
    expect(() => parseSparkRemote('sc://host:99999/;token=secret')).toThrow(/token=\*\*\*/);
    expect(() => parseSparkRemote('sc://host:99999/;token=secret')).not.toThrow(/secret/);
  });
});
