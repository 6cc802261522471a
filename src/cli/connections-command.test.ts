import { spawn } from 'node:child_process';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../runner/run-summary.js';
import { MEDALLION_CLI, type CliResult } from '../testing/medallion-cli.js';
import { freshBucketName, s3ServerOrSkip } from '../testing/minio.js';

/** The environment without any S3 setting: what a named connection must do without. */
function envWithoutS3(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(MEDALLION_S3_|AWS_|MEDALLION_SECRET_KEY|MEDALLION_DB$)/.test(name),
    ),
  );
  return { ...env, ...extra };
}

/** `medallion ARGS` in `cwd` with exactly this environment, `input` on its stdin. */
function cli(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; input?: string },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [MEDALLION_CLI, ...args], { cwd: options.cwd, env: options.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-connections-'));
});

describe('medallion connections', () => {
  it('adds a connection with the secret from stdin, lists it masked, refuses bad input and removes it', async () => {
    const cwd = await mkdtemp(path.join(dir, 'local-'));
    const env = envWithoutS3();
    const db = ['--db', `sqlite:${path.join(cwd, 'metadata.db')}`];
    const secret = 'stdin-secret-0123456789abcdef';
    const add = await cli(
      [
        'connections',
        'add',
        'aws-prod',
        '--region',
        'eu-west-3',
        '--access-key-id',
        'AKIAEXAMPLE1234WXYZ',
        '--secret-stdin',
        ...db,
      ],
      { cwd, env, input: `${secret}\n` },
    );
    expect(add).toMatchObject({ code: 0 });
    expect(add.stderr).toContain(`created the secret key ${path.join('.medallion', 'secret.key')}`);
    expect((await stat(path.join(cwd, '.medallion', 'secret.key'))).mode & 0o777).toBe(0o600);

    const listed = await cli(['connections', 'list', '--json', ...db], { cwd, env });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({
        name: 'aws-prod',
        kind: 's3',
        endpoint: null,
        region: 'eu-west-3',
        forcePathStyle: false,
        accessKeyId: '****WXYZ',
      }),
    ]);
    const text = await cli(['connections', 'list', ...db], { cwd, env });
    expect(text.stdout).toMatch(/aws-prod\s+s3\s+\(AWS\)\s+eu-west-3/);
    for (const output of [listed.stdout, text.stdout, add.stdout, add.stderr]) {
      expect(output).not.toContain(secret);
      expect(output).not.toContain('AKIAEXAMPLE1234');
    }

    const missingSecret = await cli(
      ['connections', 'add', 'aws-prod', '--region', 'eu-west-3', '--access-key-id', 'AKIA', ...db],
      { cwd, env },
    );
    expect(missingSecret.code).toBe(2);
    expect(missingSecret.stderr).toContain('--secret-from-env VAR or --secret-stdin');
    const badName = await cli(
      ['connections', 'add', 'Prod', '--region', 'x', '--access-key-id', 'A', '--secret-stdin', ...db],
      { cwd, env, input: 's' },
    );
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('invalid connection name "Prod"');

    expect((await cli(['connections', 'remove', 'aws-prod', ...db], { cwd, env })).code).toBe(0);
    const again = await cli(['connections', 'remove', 'aws-prod', ...db], { cwd, env });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('no connection named "aws-prod"');
    expect(JSON.parse((await cli(['connections', 'list', '--json', ...db], { cwd, env })).stdout)).toEqual(
      [],
    );
  });
});

const s3 = s3ServerOrSkip('named connections on S3');

describe.skipIf(!s3)('a run whose lake is reached through a named connection', () => {
  it('runs with --lake s3://NAME@bucket-{layer} and no S3 variable set, the secret only encrypted on disk', async () => {
    const server = s3!;
    const cwd = await mkdtemp(path.join(dir, 's3-'));
    const dbFile = path.join(cwd, 'metadata.db');
    const db = ['--db', `sqlite:${dbFile}`];
    const env = envWithoutS3({ MEDALLION_CACHE_DIR: path.join(cwd, 'cache') });
    const project = path.join(cwd, 'shop');
    expect((await cli(['init', project], { cwd, env })).code).toBe(0);

    const add = await cli(
      [
        'connections',
        'add',
        'test-minio',
        '--endpoint',
        server.endpoint,
        '--region',
        server.region,
        '--path-style',
        '--access-key-id',
        server.accessKeyId,
        '--secret-from-env',
        'TEST_MINIO_SECRET',
        ...db,
      ],
      { cwd, env: { ...env, TEST_MINIO_SECRET: server.secretAccessKey } },
    );
    expect(add.stderr).toContain('added connection test-minio');
    expect(add.code).toBe(0);

    const lake = `s3://test-minio@${freshBucketName('conn').slice(0, 40)}-{layer}`;
    const runInto = (location: string, extra: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
      cli(
        [
          'run',
          '--pipeline',
          path.join(project, 'pipeline.mjs'),
          '--source',
          path.join(project, 'source'),
          '--lake',
          location,
          '--json',
          ...db,
        ],
        { cwd, env: { ...env, ...extra } },
      );
    const run = await runInto(lake);
    expect(run.stderr).not.toContain(server.secretAccessKey);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as RunSummary;
    expect(summary.status).toBe('success');
    expect(summary.headline).toEqual({ days: 2, orders: 3, revenue: 256.49 });

    const onDisk = Buffer.concat(
      await Promise.all([dbFile, `${dbFile}-wal`].map((file) => readFile(file).catch(() => Buffer.alloc(0)))),
    );
    expect(onDisk.includes(Buffer.from(server.accessKeyId))).toBe(true);
    expect(onDisk.includes(Buffer.from(server.secretAccessKey))).toBe(false);

    const unknown = await runInto('s3://nobody@');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no connection named "nobody"');
    expect(unknown.stderr).toContain('medallion connections list');

    const otherKey = await runInto(lake, {
      MEDALLION_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    expect(otherKey.code).toBe(2);
    expect(otherKey.stderr).toContain(
      `connection "test-minio": the connection's secret cannot be decrypted with this key`,
    );

    const password = await runInto(`s3://test-minio:${server.secretAccessKey}@lake`);
    expect(password.code).toBe(2);
    expect(password.stderr).toContain('put credentials in a connection, not in the URL');
    expect(password.stderr).not.toContain(server.secretAccessKey);
  });
});
