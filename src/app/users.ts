/**
 * Users and their personal API tokens, for `medallion users` / `medallion tokens` and the API. No default password:
 * the first admin is made by hand (`medallion users add`), from MEDALLION_ADMIN_PASSWORD at a server's first start,
 * or with a password made up and shown once by the demo.
 */
import { randomUUID } from 'node:crypto';
import { ConfigError, NotFoundError } from '../core/errors.js';
import { isRole, ROLES, type Role } from '../core/roles.js';
import type { ApiTokenRecord, MetadataStore, UserRecord } from '../metadata/metadata-store.js';
import { checkPasswordStrength, hashPassword } from '../auth/passwords.js';
import { randomSecret } from '../auth/secrets.js';
import { issueToken } from '../auth/tokens.js';

/** What a listing shows of a user: never the password's hash. */
export interface UserView {
  name: string;
  role: Role;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

/** What a listing shows of a token: never its secret or hash. */
export type TokenView = Omit<ApiTokenRecord, 'secretHash'>;

const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

function view(user: UserRecord): UserView {
  const { name, role, disabled, createdAt, updatedAt } = user;
  return { name, role, disabled, createdAt, updatedAt };
}

function tokenView(record: ApiTokenRecord): TokenView {
  const { id, userId, userName, name, createdAt, lastUsedAt, expiresAt, revokedAt } = record;
  return { id, userId, userName, name, createdAt, lastUsedAt, expiresAt, revokedAt };
}

function checkRole(role: string): Role {
  if (!isRole(role)) {
    throw new ConfigError(`unknown role ${role}`, {
      context: { field: 'role' },
      hint: `one of ${ROLES.join(', ')}`,
    });
  }
  return role;
}

async function requireUser(store: MetadataStore, name: string): Promise<UserRecord> {
  const user = await store.getUser({ name });
  if (!user) {
    throw new NotFoundError(`no user named ${name}`, {
      context: { field: 'user' },
      hint: 'see `medallion users list`',
    });
  }
  return user;
}

export async function addUser(
  store: MetadataStore,
  input: { name: string; role: string; password: string },
): Promise<UserView> {
  if (!USER_NAME.test(input.name)) {
    throw new ConfigError(`invalid user name "${input.name}"`, {
      context: { field: 'name' },
      hint: 'letters, digits and . _ @ -, up to 64 characters',
    });
  }
  const role = checkRole(input.role);
  checkPasswordStrength(input.password);
  const created = await store.createUser({
    id: randomUUID(),
    name: input.name,
    role,
    passwordHash: await hashPassword(input.password),
  });
  if (!created) {
    throw new ConfigError(`a user named ${input.name} exists already`, {
      context: { field: 'name' },
      hint: 'choose another name, or change this one with `medallion users set-password` / `set-role`',
    });
  }
  return view(await requireUser(store, input.name));
}

export async function listUsers(store: MetadataStore): Promise<UserView[]> {
  return (await store.listUsers()).map(view);
}

/** Refuses to leave the database without an enabled admin. */
async function keepAnAdmin(store: MetadataStore, changing: UserRecord): Promise<void> {
  if (changing.role !== 'admin') return;
  const admins = (await store.listUsers()).filter((user) => user.role === 'admin' && !user.disabled);
  if (admins.length <= 1) {
    throw new ConfigError(`${changing.name} is the last admin`, {
      hint: 'make another user admin first',
    });
  }
}

export async function setRole(store: MetadataStore, name: string, role: string): Promise<UserView> {
  const user = await requireUser(store, name);
  const next = checkRole(role);
  if (next !== 'admin') await keepAnAdmin(store, user);
  await store.updateUser(name, { role: next });
  // Its sessions carried the old rights: signing in again picks the new ones up.
  await store.deleteSessionsOf(user.id);
  return view(await requireUser(store, name));
}

export async function setPassword(store: MetadataStore, name: string, password: string): Promise<void> {
  const user = await requireUser(store, name);
  checkPasswordStrength(password);
  await store.updateUser(name, { passwordHash: await hashPassword(password) });
  await store.deleteSessionsOf(user.id);
}

export async function removeUser(store: MetadataStore, name: string): Promise<void> {
  const user = await requireUser(store, name);
  await keepAnAdmin(store, user);
  await store.deleteUser(name);
}

/**
 * The first admin of an empty database: `admin` with MEDALLION_ADMIN_PASSWORD when it is set, or (`makeUp`) with a
 * password made up now, returned to be shown once. Nothing when any user exists.
 */
export async function ensureFirstAdmin(
  store: MetadataStore,
  options: { env?: NodeJS.ProcessEnv; makeUp?: boolean } = {},
): Promise<{ name: string; password?: string } | undefined> {
  if ((await store.listUsers()).length > 0) return undefined;
  const given = (options.env ?? process.env).MEDALLION_ADMIN_PASSWORD;
  if (given) {
    await addUser(store, { name: 'admin', role: 'admin', password: given });
    return { name: 'admin' };
  }
  if (!options.makeUp) return undefined;
  const password = randomSecret(15);
  await addUser(store, { name: 'admin', role: 'admin', password });
  return { name: 'admin', password };
}

export async function createToken(
  store: MetadataStore,
  input: { user: string; name: string; expiresAt?: Date },
): Promise<{ token: string; record: TokenView }> {
  if (input.name.trim() === '' || input.name.length > 100) {
    throw new ConfigError('a token is named (1 to 100 characters), e.g. prometheus', {
      context: { field: 'name' },
    });
  }
  const user = await requireUser(store, input.user);
  const { record, token } = await issueToken(
    store,
    user,
    input.name.trim(),
    new Date(),
    input.expiresAt ?? null,
  );
  return { token, record: tokenView(record) };
}

export async function listTokens(store: MetadataStore, user?: string): Promise<TokenView[]> {
  const owner = user === undefined ? undefined : await requireUser(store, user);
  return (await store.listApiTokens(owner?.id)).map(tokenView);
}

/** Revokes a token; `owner`, when given, must be the token's (a user revoking their own). */
export async function revokeToken(store: MetadataStore, id: string, owner?: string): Promise<void> {
  const record = await store.getApiToken(id);
  if (!record || (owner !== undefined && record.userName !== owner)) {
    throw new NotFoundError(`no token ${id}${owner ? ` of ${owner}` : ''}`, {
      context: { field: 'token' },
      hint: 'see `medallion tokens list`',
    });
  }
  await store.revokeApiToken(id, new Date().toISOString());
}
