/**
 * The accounts part of the MetadataStore conformance suite: users, sessions, API tokens and failed logins. Called by
 * describeMetadataStoreConformance, so SQLite and PostgreSQL both pass it.
 */
import { expect, it } from 'vitest';
import type { MetadataStore } from './metadata-store.js';

const T0 = Date.parse('2024-03-01T00:00:00.000Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

export function describeAccountsConformance(freshStore: () => Promise<MetadataStore>): void {
  it('keeps users by unique name, changes their role, password and state, and deletes them with what they own', async () => {
    const store = await freshStore();
    expect(await store.createUser({ id: 'u1', name: 'ann', role: 'admin', passwordHash: 'h1' })).toBe(true);
    expect(await store.createUser({ id: 'u2', name: 'ann', role: 'viewer', passwordHash: 'h2' })).toBe(false);
    expect(await store.createUser({ id: 'u3', name: 'bob', role: 'viewer', passwordHash: 'h3' })).toBe(true);
    expect(await store.getUser({ name: 'ann' })).toMatchObject({ id: 'u1', role: 'admin', disabled: false });
    expect((await store.getUser({ id: 'u3' }))?.name).toBe('bob');
    expect(await store.updateUser('bob', { role: 'operator', passwordHash: 'h4', disabled: true })).toBe(
      true,
    );
    expect(await store.getUser({ name: 'bob' })).toMatchObject({
      role: 'operator',
      passwordHash: 'h4',
      disabled: true,
    });
    expect(await store.updateUser('nobody', { role: 'admin' })).toBe(false);
    expect((await store.listUsers()).map((user) => user.name)).toEqual(['ann', 'bob']);

    await store.createSession({
      idHash: 's1',
      userId: 'u3',
      csrfToken: 'c',
      createdAt: at(0),
      expiresAt: at(60),
      address: null,
      userAgent: null,
    });
    await store.createApiToken({
      id: 't1',
      userId: 'u3',
      name: 'ci',
      secretHash: 'x',
      createdAt: at(0),
      expiresAt: null,
    });
    expect(await store.deleteUser('bob')).toBe(true);
    expect(await store.getSession('s1')).toBeUndefined();
    expect(await store.getApiToken('t1')).toBeUndefined();
    expect(await store.deleteUser('bob')).toBe(false);
  });

  it('keeps sessions with their user, touches, expires and ends them', async () => {
    const store = await freshStore();
    await store.createUser({ id: 'u1', name: 'ann', role: 'viewer', passwordHash: 'h' });
    const session = {
      userId: 'u1',
      csrfToken: 'csrf',
      createdAt: at(0),
      expiresAt: at(100),
      address: '127.0.0.1',
      userAgent: 'test',
    };
    await store.createSession({ ...session, idHash: 'a' });
    await store.createSession({ ...session, idHash: 'b', expiresAt: at(10) });
    expect(await store.getSession('a')).toMatchObject({
      idHash: 'a',
      csrfToken: 'csrf',
      lastSeenAt: at(0),
      expiresAt: at(100),
      user: { name: 'ann', role: 'viewer' },
    });
    await store.touchSession('a', at(5));
    expect((await store.getSession('a'))?.lastSeenAt).toBe(at(5));
    expect(await store.deleteExpiredSessions(at(50))).toBe(1);
    expect(await store.getSession('b')).toBeUndefined();
    await store.deleteSession('a');
    expect(await store.getSession('a')).toBeUndefined();
    await store.createSession({ ...session, idHash: 'c' });
    await store.deleteSessionsOf('u1');
    expect(await store.getSession('c')).toBeUndefined();
  });

  it('keeps API tokens by id with their owner, lists, touches and revokes them once', async () => {
    const store = await freshStore();
    await store.createUser({ id: 'u1', name: 'ann', role: 'admin', passwordHash: 'h' });
    await store.createUser({ id: 'u2', name: 'bob', role: 'viewer', passwordHash: 'h' });
    const token = { name: 'prometheus', secretHash: 'hash', expiresAt: null };
    await store.createApiToken({ ...token, id: 't1', userId: 'u1', createdAt: at(0) });
    await store.createApiToken({ ...token, id: 't2', userId: 'u2', createdAt: at(1), expiresAt: at(99) });
    expect(await store.getApiToken('t2')).toMatchObject({
      userName: 'bob',
      name: 'prometheus',
      secretHash: 'hash',
      expiresAt: at(99),
      revokedAt: null,
    });
    expect((await store.listApiTokens()).map((entry) => entry.id)).toEqual(['t2', 't1']);
    expect((await store.listApiTokens('u1')).map((entry) => entry.id)).toEqual(['t1']);
    await store.touchApiToken('t1', at(7));
    expect((await store.getApiToken('t1'))?.lastUsedAt).toBe(at(7));
    expect(await store.revokeApiToken('t1', at(8))).toBe(true);
    expect(await store.revokeApiToken('t1', at(9))).toBe(false);
    expect((await store.getApiToken('t1'))?.revokedAt).toBe(at(8));
  });

  it('counts failed logins per key since an instant, and forgets them when told', async () => {
    const store = await freshStore();
    await store.recordLoginFailure(['user:ann', 'address:10.0.0.1'], at(0));
    await store.recordLoginFailure(['user:ann', 'address:10.0.0.2'], at(30));
    expect(await store.countLoginFailures('user:ann', at(0))).toBe(2);
    expect(await store.countLoginFailures('user:ann', at(10))).toBe(1);
    expect(await store.countLoginFailures('address:10.0.0.1', at(0))).toBe(1);
    await store.clearLoginFailures('user:ann');
    expect(await store.countLoginFailures('user:ann', at(0))).toBe(0);
    expect(await store.countLoginFailures('address:10.0.0.2', at(0))).toBe(1);
  });
}
