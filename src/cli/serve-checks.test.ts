import { spawn } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { medallion, MEDALLION_CLI } from '../testing/medallion-cli.js';
import { checkApiToken, isLoopback, plainHttpWarning } from './serve-checks.js';

const strong = 'q3J8vX0cJf2mT6yWb1LhZp9sRk4nDe7u';

describe('the API token check', () => {
  it('accepts a token of 32 characters or more without whitespace', () => {
    expect(checkApiToken(strong)).toBe(strong);
    expect(checkApiToken(`${strong}+/=`)).toBe(`${strong}+/=`);
  });

  /** What serve prints when it refuses the token. */
  function refusal(token: string): string {
    try {
      checkApiToken(token);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).describe();
    }
    throw new Error('the token was accepted');
  }

  it('refuses a shorter token, naming the variable and its length but never the token', () => {
    const text = refusal(strong.slice(0, 31));
    expect(text).toContain('MEDALLION_API_TOKEN: is 31 characters long; at least 32');
    expect(text).toContain('openssl rand -base64 32');
    expect(text).not.toContain(strong.slice(0, 31));
  });

  it.each([` ${strong}`, `${strong}\n`, `${strong.slice(0, 16)} ${strong.slice(16)}`, `${strong}\tx`])(
    'refuses a token holding whitespace (%j)',
    (token) => {
      expect(refusal(token)).toMatch(/^MEDALLION_API_TOKEN: holds whitespace/);
    },
  );
});

describe('the listening address check', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    '127.255.255.255',
    '::1',
    '[::1]',
    '::ffff:127.0.0.1',
    'localhost',
    'LocalHost.',
  ])('takes %s for loopback, with no warning', (host) => {
    expect(isLoopback(host)).toBe(true);
    expect(plainHttpWarning(host, host)).toBeUndefined();
  });

  it.each([
    '0.0.0.0',
    '::',
    '10.0.0.5',
    '128.0.0.1',
    '192.168.1.2',
    '::2',
    'example.com',
    'localhost.example.com',
  ])('warns about %s, which is not loopback', (host) => {
    expect(isLoopback(host)).toBe(false);
    expect(plainHttpWarning(host, host)).toMatch(
      /warning: --host .* not a loopback address, over plain HTTP/,
    );
  });

  it('judges the address bound, not the name given', () => {
    expect(plainHttpWarning('my-laptop', '127.0.1.1')).toBeUndefined();
    expect(plainHttpWarning('my-laptop', '192.168.1.2')).toContain('--host my-laptop listens on 192.168.1.2');
  });
});

describe('medallion serve', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-serve-checks-'));
    await mkdir(path.join(dir, 'source'));
  });

  function serveArgs(name: string): string[] {
    const locations = ['--source', path.join(dir, 'source'), '--lake', path.join(dir, 'lake')];
    const db = `sqlite:${path.join(dir, `${name}.db`)}`;
    return ['serve', ...locations, '--db', db, '--port', '0', '--host', '127.0.0.1'];
  }

  it('exits 2 at start when MEDALLION_API_TOKEN is short, naming the variable with a hint', async () => {
    const { code, stderr } = await medallion(serveArgs('short'), { MEDALLION_API_TOKEN: 'secret123' });
    expect(code).toBe(2);
    expect(stderr).toContain('MEDALLION_API_TOKEN: is 9 characters long');
    expect(stderr).toContain('hint: make one with `openssl rand -base64 32`');
    expect(stderr).not.toContain('listening');
  });

  it('exits 2 at start when MEDALLION_API_TOKEN holds whitespace', async () => {
    const { code, stderr } = await medallion(serveArgs('space'), { MEDALLION_API_TOKEN: `${strong} x` });
    expect(code).toBe(2);
    expect(stderr).toContain('MEDALLION_API_TOKEN: holds whitespace');
    expect(stderr).not.toContain(strong);
  });

  it('starts with a strong token on loopback, without a warning, and answers with that token', async () => {
    const child = spawn(process.execPath, [MEDALLION_CLI, ...serveArgs('strong')], {
      env: { ...process.env, MEDALLION_API_TOKEN: strong },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    try {
      for (let waited = 0; !/listening on (\S+)/.test(stderr) && waited < 10_000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const url = /listening on (\S+)/.exec(stderr)?.[1];
      expect(url, stderr).toBeDefined();
      const health = await fetch(`${url}/api/health`, { headers: { authorization: `Bearer ${strong}` } });
      expect(health.status).toBe(200);
      expect(stderr).not.toContain('not a loopback address');
      expect(stderr).not.toContain('API token');
    } finally {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
