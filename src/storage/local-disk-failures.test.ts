import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalDiskStore } from './local-disk.js';

/** The next write or copy into a temp file runs out of disk half way, as on a full disk. */
const faults = vi.hoisted(() => ({ diskFullAt: undefined as 'writeFile' | 'copyFile' | undefined }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const diskFull = async (step: 'writeFile' | 'copyFile', file: string, bytes: Buffer): Promise<never> => {
    faults.diskFullAt = undefined;
    await real.writeFile(file, bytes.subarray(0, bytes.length >> 1));
    throw Object.assign(new Error(`ENOSPC: no space left on device, ${step} '${file}'`), { code: 'ENOSPC' });
  };
  return {
    ...real,
    writeFile: async (...args: Parameters<typeof real.writeFile>) => {
      const [file, data] = args;
      if (faults.diskFullAt !== 'writeFile') return real.writeFile(...args);
      return diskFull('writeFile', String(file), Buffer.from(data as string | Buffer));
    },
    copyFile: async (...args: Parameters<typeof real.copyFile>) => {
      const [from, to] = args;
      if (faults.diskFullAt !== 'copyFile') return real.copyFile(...args);
      return diskFull('copyFile', String(to), await real.readFile(from));
    },
  };
});

let dir: string;
let store: LocalDiskStore;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'medallion-local-failures-'));
  store = new LocalDiskStore(path.join(dir, 'store'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The names in the store directory `sub`. */
async function namesIn(sub: string): Promise<string[]> {
  return (await readdir(path.join(store.location, sub))).sort();
}

const BODY = Buffer.alloc(64 * 1024, 7);

describe('LocalDiskStore, when a write fails', () => {
  it('removes the temp file of a put that runs out of disk, and keeps the previous object', async () => {
    await store.put('put/object.bin', 'before');
    faults.diskFullAt = 'writeFile';
    await expect(store.put('put/object.bin', BODY)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(await namesIn('put')).toEqual(['object.bin']);
    expect((await store.get('put/object.bin')).toString()).toBe('before');
    expect(await store.listUnfinished('put/')).toEqual([]);
  });

  it('removes the temp file of a putIfAbsent that runs out of disk, and writes no object', async () => {
    await mkdir(path.join(store.location, 'absent'), { recursive: true });
    faults.diskFullAt = 'writeFile';
    await expect(store.putIfAbsent('absent/00000000000000000001.json', BODY)).rejects.toMatchObject({
      code: 'ENOSPC',
    });
    expect(await namesIn('absent')).toEqual([]);
  });

  it('removes the temp file of a putFile whose copy runs out of disk', async () => {
    const local = path.join(dir, 'local.parquet');
    await writeFile(local, BODY);
    faults.diskFullAt = 'copyFile';
    await expect(store.putFile(local, 'copied/part-0.parquet')).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(await namesIn('copied')).toEqual([]);
    expect(await readFile(local)).toEqual(BODY); // the caller's file is left for it to retry or remove
  });

  it('removes the temp file when the written file cannot be put in place', async () => {
    // A directory where the object should go: the rename into place fails on a real file system.
    await mkdir(path.join(store.location, 'blocked', 'object.bin', 'inside'), { recursive: true });
    const local = path.join(dir, 'blocked.bin');
    await writeFile(local, BODY);

    await expect(store.put('blocked/object.bin', BODY)).rejects.toMatchObject({ code: expect.any(String) });
    await expect(store.putFile(local, 'blocked/object.bin')).rejects.toMatchObject({
      code: expect.any(String),
    });

    expect(await namesIn('blocked')).toEqual(['object.bin']);
    expect(await store.listUnfinished('blocked/')).toEqual([]);
  });
});
