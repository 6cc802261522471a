/**
 * Personal API tokens: `mdl_<id>_<secret>`, shown once when made. The store keeps the id and the SHA-256 of the
 * secret, so a stolen database holds no usable token; a token is revocable and may expire.
 */
import { randomBytes } from 'node:crypto';
import type { ApiTokenRecord, MetadataStore, UserRecord } from '../metadata/metadata-store.js';
import { randomSecret, sameSecret, sha256 } from './secrets.js';

const FORMAT = /^mdl_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export async function issueToken(
  store: MetadataStore,
  user: UserRecord,
  name: string,
  now: Date,
  expiresAt: Date | null = null,
): Promise<{ record: ApiTokenRecord; token: string }> {
  const id = randomBytes(8).toString('hex');
  const secret = randomSecret(32);
  await store.createApiToken({
    id,
    userId: user.id,
    name,
    secretHash: sha256(secret),
    createdAt: now.toISOString(),
    expiresAt: expiresAt?.toISOString() ?? null,
  });
  const record = await store.getApiToken(id);
  if (!record) throw new Error(`the token ${id} just made cannot be read back`);
  return { record, token: `mdl_${id}_${secret}` };
}

/** The token's record when `token` is one, valid (not revoked, not expired) and of an enabled user. */
export async function checkToken(
  store: MetadataStore,
  token: string,
  now: Date,
): Promise<{ record: ApiTokenRecord; user: UserRecord } | undefined> {
  const match = FORMAT.exec(token);
  if (!match) return undefined;
  const [, id, secret] = match as unknown as [string, string, string];
  const record = await store.getApiToken(id);
  if (!record || !sameSecret(sha256(secret), record.secretHash)) return undefined;
  if (record.revokedAt !== null) return undefined;
  if (record.expiresAt !== null && Date.parse(record.expiresAt) <= now.getTime()) return undefined;
  const user = await store.getUser({ id: record.userId });
  if (!user || user.disabled) return undefined;
  return { record, user };
}
