import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import type { TestS3Server } from './minio.js';

/** A MinIO server of a test's own, which the test may kill and start again on the same data. */
export interface MinioProcess extends Omit<TestS3Server, 'pid' | 'foundIn'> {
  dataDir: string;
  port: number;
  kill(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

async function minioBinary(): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', ['scripts/services/minio.sh', 'install']);
  return stdout.trim().split('\n').pop() ?? '';
}

async function waitUntilLive(endpoint: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`minio exited with ${child.exitCode}`);
    const live = await fetch(`${endpoint}/minio/health/live`).then(
      (response) => response.ok,
      () => false,
    );
    if (live) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`minio at ${endpoint} did not come up`);
}

export async function startMinio(dataDir: string, port?: number): Promise<MinioProcess> {
  const chosen = port ?? (await freePort());
  const credentials = { accessKeyId: 'medallion-test', secretAccessKey: 'medallion-test-secret' };
  const child = spawn(
    await minioBinary(),
    [
      'server',
      '--quiet',
      '--address',
      `127.0.0.1:${chosen}`,
      '--console-address',
      `127.0.0.1:${await freePort()}`,
      dataDir,
    ],
    {
      env: {
        ...process.env,
        MINIO_ROOT_USER: credentials.accessKeyId,
        MINIO_ROOT_PASSWORD: credentials.secretAccessKey,
        MINIO_UPDATE: 'off',
      },
      stdio: 'ignore',
    },
  );
  const endpoint = `http://127.0.0.1:${chosen}`;
  await waitUntilLive(endpoint, child);
  return {
    endpoint,
    region: 'us-east-1',
    ...credentials,
    dataDir,
    port: chosen,
    kill: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
