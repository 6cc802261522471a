import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { loadSecretKey, SecretBox } from './secret-box.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-secret-box-'));
});

describe('SecretBox', () => {
  it('opens what it sealed, and seals the same secret differently each time', () => {
    const box = new SecretBox(randomBytes(32));
    const one = box.seal(SECRET);
    const two = box.seal(SECRET);
    expect(one).toMatch(/^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(one).not.toContain(SECRET);
    expect(one).not.toBe(two);
    expect(box.open(one)).toBe(SECRET);
    expect(box.open(two)).toBe(SECRET);
    expect(box.open(box.seal(''))).toBe('');
  });

  it('refuses a sealed secret whose ciphertext, tag or IV was changed', () => {
    const box = new SecretBox(randomBytes(32));
    const [version, iv, tag, ciphertext] = box.seal(SECRET).split(':') as [string, string, string, string];
    const flip = (text: string): string => {
      const bytes = Buffer.from(text, 'base64');
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      return bytes.toString('base64');
    };
    for (const tampered of [
      [version, iv, tag, flip(ciphertext)],
      [version, iv, flip(tag), ciphertext],
      [version, flip(iv), tag, ciphertext],
    ]) {
      expect(() => box.open(tampered.join(':'))).toThrow(/cannot be decrypted with this key/);
    }
    expect(() => box.open(`v2:${iv}:${tag}:${ciphertext}`)).toThrow(/not in a format/);
    expect(() => box.open(SECRET)).toThrow(ConfigError);
  });

  it('says a secret sealed under another key cannot be decrypted with this one, without showing it', () => {
    const sealed = new SecretBox(randomBytes(32)).seal(SECRET);
    const attempt = (): string => new SecretBox(randomBytes(32)).open(sealed);
    expect(attempt).toThrow(/the connection's secret cannot be decrypted with this key: /);
    expect(attempt).not.toThrow(new RegExp(SECRET.slice(0, 8)));
  });
});

describe('loadSecretKey', () => {
  it('takes MEDALLION_SECRET_KEY as base64 of 32 bytes and names the variable when it is not', async () => {
    const key = randomBytes(32);
    expect(await loadSecretKey({ env: { MEDALLION_SECRET_KEY: key.toString('base64') } })).toEqual(key);
    for (const bad of ['c2hvcnQ=', 'not base64 at all!', randomBytes(16).toString('base64')]) {
      await expect(loadSecretKey({ env: { MEDALLION_SECRET_KEY: bad } })).rejects.toThrow(
        /MEDALLION_SECRET_KEY must be the base64 of 32 bytes/,
      );
    }
  });

  it('creates the key file on first need with mode 0600, says where, and reads the same key after', async () => {
    const file = path.join(dir, 'created', 'secret.key');
    const env = { MEDALLION_SECRET_KEY_FILE: file };
    await expect(loadSecretKey({ env })).rejects.toThrow(/no secret key/);
    const notes: string[] = [];
    const key = await loadSecretKey({ env, create: true, note: (line) => notes.push(line) });
    expect(key).toHaveLength(32);
    expect(notes).toEqual([expect.stringContaining(file)]);
    if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await loadSecretKey({ env, create: true, note: (line) => notes.push(line) })).toEqual(key);
    expect(notes).toHaveLength(1);
    expect(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64')).toEqual(key);
  });

  it.skipIf(process.platform === 'win32')(
    'refuses a key file group or others can read, naming the file and the chmod to run',
    async () => {
      const file = path.join(dir, 'open.key');
      await writeFile(file, randomBytes(32).toString('base64'));
      await chmod(file, 0o644);
      const loading = loadSecretKey({ env: { MEDALLION_SECRET_KEY_FILE: file } });
      await expect(loading).rejects.toThrow(`the secret key file ${file} can be read by group or others`);
      await expect(loadSecretKey({ env: { MEDALLION_SECRET_KEY_FILE: file } })).rejects.toMatchObject({
        hint: `run: chmod 600 ${file}`,
      });
      await chmod(file, 0o600);
      expect(await loadSecretKey({ env: { MEDALLION_SECRET_KEY_FILE: file } })).toHaveLength(32);
    },
  );
});
