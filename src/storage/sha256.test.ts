import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRandomFile } from './object-store.conformance.js';
import { BackgroundSha256, sha256File } from './sha256.js';

describe('BackgroundSha256', () => {
  let dir: string;
  let file: string;
  let digest: string;
  const size = 3 * 1024 * 1024 + 17;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'medallion-sha256-'));
    file = path.join(dir, 'data.bin');
    digest = await writeRandomFile(file, size);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the SHA-256 of the whole file from its ranges added in order', async () => {
    const hasher = new BackgroundSha256();
    for (const [start, end] of [
      [0, 0],
      [1, 2 * 1024 * 1024],
      [2 * 1024 * 1024 + 1, size - 1],
    ] as const) {
      hasher.add(file, { start, end });
    }
    expect(await hasher.digest()).toBe(digest);
    expect(await sha256File(file)).toBe(digest);
  });

  it('fails the digest, naming the file, when a range lies beyond the end of the file', async () => {
    const hasher = new BackgroundSha256();
    hasher.add(file, { start: 0, end: size });
    await expect(hasher.digest()).rejects.toThrow(`unexpected end of ${file} at byte ${size}`);
  });
});
