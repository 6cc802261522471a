/**
 * Secrets at rest (connection credentials): AES-256-GCM with a random 12-byte IV per secret, sealed as
 * `v1:<iv base64>:<auth tag base64>:<ciphertext base64>`. The key is MEDALLION_SECRET_KEY (base64 of 32 bytes)
 * or else a key file (default `.medallion/secret.key`, or MEDALLION_SECRET_KEY_FILE), created on first need
 * with mode 0600 and refused when group or others can read it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export const DEFAULT_KEY_FILE = path.join('.medallion', 'secret.key');

export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES)
      throw new ConfigError(`a secret key is ${KEY_BYTES} bytes, not ${key.length}`);
    this.key = Buffer.from(key);
  }

  /** The secret encrypted under a fresh IV, in the versioned text form. */
  seal(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv.toString('base64'), tag.toString('base64'), ciphertext.toString('base64')].join(':');
  }

  /** The plain secret; a ConfigError when the text is not a sealed secret or the key (or text) is wrong. */
  open(sealed: string): string {
    const parts = sealed.split(':');
    const [version, iv, tag, ciphertext] = parts;
    if (
      parts.length !== 4 ||
      version !== VERSION ||
      iv === undefined ||
      tag === undefined ||
      ciphertext === undefined
    ) {
      throw new ConfigError(
        `the connection's secret is not in a format this medallion reads (expected ${VERSION}:iv:tag:ciphertext)`,
      );
    }
    const ivBytes = Buffer.from(iv, 'base64');
    const tagBytes = Buffer.from(tag, 'base64');
    if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) {
      throw new ConfigError("the connection's secret is damaged (bad IV or authentication tag length)");
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, ivBytes);
      decipher.setAuthTag(tagBytes);
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString(
        'utf8',
      );
    } catch (error) {
      throw new ConfigError(
        `the connection's secret cannot be decrypted with this key: ${(error as Error).message}`,
        {
          hint: 'use the MEDALLION_SECRET_KEY or key file the connection was added with, or add the connection again',
        },
      );
    }
  }
}

export interface SecretKeyOptions {
  env?: NodeJS.ProcessEnv;
  /** Create the key file when it is missing (adding a secret); else a missing key is an error. */
  create?: boolean;
  /** Where notes go (the key file's creation). Default: stderr. */
  note?: (line: string) => void;
}

/** The key file's path: MEDALLION_SECRET_KEY_FILE, or `.medallion/secret.key` under the working directory. */
export function secretKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.MEDALLION_SECRET_KEY_FILE || DEFAULT_KEY_FILE;
}

/** The key: MEDALLION_SECRET_KEY when set, else the key file (created when `create` and missing). */
export async function loadSecretKey(options: SecretKeyOptions = {}): Promise<Buffer> {
  const env = options.env ?? process.env;
  const fromEnv = env.MEDALLION_SECRET_KEY;
  if (fromEnv !== undefined && fromEnv !== '') {
    const key = Buffer.from(fromEnv.trim(), 'base64');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(fromEnv.trim()) || key.length !== KEY_BYTES) {
      throw new ConfigError(`MEDALLION_SECRET_KEY must be the base64 of ${KEY_BYTES} bytes`, {
        context: { field: 'MEDALLION_SECRET_KEY' },
        hint: 'make one with: openssl rand -base64 32',
      });
    }
    return key;
  }
  const file = secretKeyFile(env);
  const info = await stat(file).catch(() => undefined);
  if (!info) {
    if (!options.create) {
      throw new ConfigError(`no secret key: MEDALLION_SECRET_KEY is not set and ${file} does not exist`, {
        context: { field: 'MEDALLION_SECRET_KEY' },
        hint: 'set MEDALLION_SECRET_KEY or MEDALLION_SECRET_KEY_FILE to the key the connections were added with',
      });
    }
    await mkdir(path.dirname(file), { recursive: true });
    const key = randomBytes(KEY_BYTES);
    await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    (options.note ?? ((line) => process.stderr.write(`${line}\n`)))(
      `medallion: created the secret key ${file} (keep it: the connections' secrets cannot be read without it)`,
    );
    return key;
  }
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    throw new ConfigError(`the secret key file ${file} can be read by group or others`, {
      context: { field: 'MEDALLION_SECRET_KEY_FILE' },
      hint: `run: chmod 600 ${file}`,
    });
  }
  const text = (await readFile(file, 'utf8')).trim();
  const key = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || key.length !== KEY_BYTES) {
    throw new ConfigError(`the secret key file ${file} does not hold the base64 of ${KEY_BYTES} bytes`, {
      context: { field: 'MEDALLION_SECRET_KEY_FILE' },
    });
  }
  return key;
}

export async function openSecretBox(options: SecretKeyOptions = {}): Promise<SecretBox> {
  return new SecretBox(await loadSecretKey(options));
}
