/**
 * Passwords, hashed with argon2id (OWASP's parameters: 19 MiB, 2 passes, 1 lane). A password is never stored,
 * logged or sent back; checking one for an unknown user costs as much as for a known one.
 */
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { ConfigError } from '../core/errors.js';

const OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Passwords shorter than this are refused: the only rule, as NIST SP 800-63B advises (no composition rules). */
export const MIN_PASSWORD_LENGTH = 12;

export function checkPasswordStrength(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new ConfigError(`a password has at least ${MIN_PASSWORD_LENGTH} characters`, {
      context: { field: 'password' },
      hint: 'a few words you remember, or `openssl rand -base64 18`',
    });
  }
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** A hash of nothing anyone knows, checked when the user does not exist, so that timing does not tell. */
let decoy: Promise<string> | undefined;

export async function checkPassword(passwordHash: string | undefined, password: string): Promise<boolean> {
  decoy ??= hash(`decoy-${Math.random()}`, OPTIONS);
  try {
    return await verify(passwordHash ?? (await decoy), password);
  } catch {
    return false;
  }
}
