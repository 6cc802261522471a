/** Users, their sessions and API tokens, and failed logins: what signing in needs, and no secret in clear. */
import type { Selectable } from 'kysely';
import type {
  ApiTokenRecord,
  NewApiToken,
  NewSession,
  NewUser,
  SessionRecord,
  UserRecord,
} from '../records.js';
import type { ApiTokensTable, UsersTable } from '../schema.js';
import { iso, type StoreCore } from './store-core.js';

export async function createUser(core: StoreCore, user: NewUser): Promise<boolean> {
  const now = core.now();
  const inserted = await core.db
    .insertInto('medallion_users')
    .values({
      id: user.id,
      name: user.name,
      role: user.role,
      password_hash: user.passwordHash,
      disabled: 0,
      created_at: now,
      updated_at: now,
    })
    .onConflict((conflict) => conflict.doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function getUser(
  core: StoreCore,
  key: { id: string } | { name: string },
): Promise<UserRecord | undefined> {
  const row = await core.db
    .selectFrom('medallion_users')
    .selectAll()
    .$if('id' in key, (query) => query.where('id', '=', 'id' in key ? key.id : ''))
    .$if('name' in key, (query) => query.where('name', '=', 'name' in key ? key.name : ''))
    .executeTakeFirst();
  return row && toUser(row);
}

export async function listUsers(core: StoreCore): Promise<UserRecord[]> {
  const rows = await core.db.selectFrom('medallion_users').selectAll().orderBy('name').execute();
  return rows.map(toUser);
}

export async function updateUser(
  core: StoreCore,
  name: string,
  changes: Partial<Pick<UserRecord, 'role' | 'passwordHash' | 'disabled'>>,
): Promise<boolean> {
  const result = await core.db
    .updateTable('medallion_users')
    .set({
      updated_at: core.now(),
      ...(changes.role !== undefined && { role: changes.role }),
      ...(changes.passwordHash !== undefined && { password_hash: changes.passwordHash }),
      ...(changes.disabled !== undefined && { disabled: changes.disabled ? 1 : 0 }),
    })
    .where('name', '=', name)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deleteUser(core: StoreCore, name: string): Promise<boolean> {
  return core.write(async (trx) => {
    const user = await trx
      .selectFrom('medallion_users')
      .select('id')
      .where('name', '=', name)
      .executeTakeFirst();
    if (!user) return false;
    // Explicitly, not only by cascade: SQLite enforces foreign keys only when the connection asks it to.
    await trx.deleteFrom('medallion_sessions').where('user_id', '=', user.id).execute();
    await trx.deleteFrom('medallion_api_tokens').where('user_id', '=', user.id).execute();
    await trx.deleteFrom('medallion_users').where('id', '=', user.id).execute();
    return true;
  });
}

export async function createSession(core: StoreCore, session: NewSession): Promise<void> {
  await core.db
    .insertInto('medallion_sessions')
    .values({
      id_hash: session.idHash,
      user_id: session.userId,
      csrf_token: session.csrfToken,
      created_at: iso(session.createdAt, 'createdAt'),
      last_seen_at: iso(session.createdAt, 'createdAt'),
      expires_at: iso(session.expiresAt, 'expiresAt'),
      address: session.address,
      user_agent: session.userAgent,
    })
    .execute();
}

export async function getSession(core: StoreCore, idHash: string): Promise<SessionRecord | undefined> {
  const row = await core.db
    .selectFrom('medallion_sessions as session')
    .innerJoin('medallion_users as user', 'user.id', 'session.user_id')
    .selectAll('user')
    .select([
      'session.id_hash',
      'session.csrf_token',
      'session.created_at as session_created_at',
      'session.last_seen_at',
      'session.expires_at',
      'session.address',
      'session.user_agent',
    ])
    .where('session.id_hash', '=', idHash)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    idHash: row.id_hash,
    user: toUser(row),
    csrfToken: row.csrf_token,
    createdAt: row.session_created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    address: row.address,
    userAgent: row.user_agent,
  };
}

export async function touchSession(core: StoreCore, idHash: string, lastSeenAt: string): Promise<void> {
  await core.db
    .updateTable('medallion_sessions')
    .set({ last_seen_at: iso(lastSeenAt, 'lastSeenAt') })
    .where('id_hash', '=', idHash)
    .execute();
}

export async function deleteSession(core: StoreCore, idHash: string): Promise<void> {
  await core.db.deleteFrom('medallion_sessions').where('id_hash', '=', idHash).execute();
}

export async function deleteSessionsOf(core: StoreCore, userId: string): Promise<void> {
  await core.db.deleteFrom('medallion_sessions').where('user_id', '=', userId).execute();
}

export async function deleteExpiredSessions(core: StoreCore, now: string): Promise<number> {
  const result = await core.db
    .deleteFrom('medallion_sessions')
    .where('expires_at', '<', iso(now, 'now'))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function createApiToken(core: StoreCore, token: NewApiToken): Promise<void> {
  await core.db
    .insertInto('medallion_api_tokens')
    .values({
      id: token.id,
      user_id: token.userId,
      name: token.name,
      secret_hash: token.secretHash,
      created_at: iso(token.createdAt, 'createdAt'),
      last_used_at: null,
      expires_at: token.expiresAt === null ? null : iso(token.expiresAt, 'expiresAt'),
      revoked_at: null,
    })
    .execute();
}

function tokens(core: StoreCore) {
  return core.db
    .selectFrom('medallion_api_tokens as token')
    .innerJoin('medallion_users as user', 'user.id', 'token.user_id')
    .selectAll('token')
    .select('user.name as user_name');
}

export async function getApiToken(core: StoreCore, id: string): Promise<ApiTokenRecord | undefined> {
  const row = await tokens(core).where('token.id', '=', id).executeTakeFirst();
  return row && toToken(row);
}

export async function listApiTokens(core: StoreCore, userId?: string): Promise<ApiTokenRecord[]> {
  const rows = await tokens(core)
    .$if(userId !== undefined, (query) => query.where('token.user_id', '=', userId ?? ''))
    .orderBy('token.created_at', 'desc')
    .orderBy('token.id')
    .execute();
  return rows.map(toToken);
}

export async function revokeApiToken(core: StoreCore, id: string, at: string): Promise<boolean> {
  const result = await core.db
    .updateTable('medallion_api_tokens')
    .set({ revoked_at: iso(at, 'at') })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function touchApiToken(core: StoreCore, id: string, at: string): Promise<void> {
  await core.db
    .updateTable('medallion_api_tokens')
    .set({ last_used_at: iso(at, 'at') })
    .where('id', '=', id)
    .execute();
}

export async function recordLoginFailure(
  core: StoreCore,
  keys: readonly string[],
  at: string,
): Promise<void> {
  if (keys.length === 0) return;
  await core.db
    .insertInto('medallion_login_failures')
    .values(keys.map((key) => ({ key, at: iso(at, 'at') })))
    .execute();
}

export async function countLoginFailures(core: StoreCore, key: string, since: string): Promise<number> {
  const row = await core.db
    .selectFrom('medallion_login_failures')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('key', '=', key)
    .where('at', '>=', iso(since, 'since'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function clearLoginFailures(core: StoreCore, key: string): Promise<void> {
  await core.db.deleteFrom('medallion_login_failures').where('key', '=', key).execute();
}

function toUser(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    passwordHash: row.password_hash,
    disabled: Number(row.disabled) === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toToken(row: Selectable<ApiTokensTable> & { user_name: string }): ApiTokenRecord {
  return {
    id: row.id,
    userId: row.user_id,
    userName: row.user_name,
    name: row.name,
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}
