/**
 * Who is asking: a session (a browser that signed in: an HttpOnly cookie whose value the store knows only by hash,
 * and a CSRF token for every change it asks for) or a personal API token (scripts, Prometheus). Logins are
 * rate-limited per user and per address; sessions end after an absolute lifetime or when left idle.
 */
import { MedallionError } from '../core/errors.js';
import type { MetadataStore, SessionRecord, UserRecord } from '../metadata/metadata-store.js';
import { checkPassword } from './passwords.js';
import { randomSecret, sha256 } from './secrets.js';
import { checkToken } from './tokens.js';

export interface AuthSettings {
  /** A session ends this long after its login, whatever happens (default 12 h). */
  sessionTtlMs: number;
  /** A session unused this long ends (default 2 h). */
  idleTimeoutMs: number;
  /** Failed logins allowed per user name, and per address, within the window (default 5 and 20 per 15 min). */
  maxFailuresPerUser: number;
  maxFailuresPerAddress: number;
  failureWindowMs: number;
}

export const DEFAULT_AUTH_SETTINGS: AuthSettings = {
  sessionTtlMs: 12 * 3600_000,
  idleTimeoutMs: 2 * 3600_000,
  maxFailuresPerUser: 5,
  maxFailuresPerAddress: 20,
  failureWindowMs: 15 * 60_000,
};

/** How often a session's last use is written (reading it at every request must stay cheap). */
const TOUCH_EVERY_MS = 60_000;

export type Principal =
  | { via: 'session'; user: UserRecord; session: SessionRecord }
  | { via: 'token'; user: UserRecord; tokenId: string };

/** The name and password do not match an enabled user (the message does not say which). */
export class LoginRefusedError extends MedallionError {}

export class TooManyLoginsError extends MedallionError {
  constructor(readonly retryAfterSeconds: number) {
    super('too many failed logins: wait before trying again', {
      hint: `try again in ${retryAfterSeconds} s`,
    });
  }
}

export interface LoginResult {
  user: UserRecord;
  /** The cookie's value: known to the browser only. */
  sessionId: string;
  csrfToken: string;
  expiresAt: Date;
}

export class Authenticator {
  constructor(
    private readonly store: MetadataStore,
    private readonly settings: AuthSettings = DEFAULT_AUTH_SETTINGS,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async login(
    name: string,
    password: string,
    meta: { address: string | null; userAgent: string | null },
  ): Promise<LoginResult> {
    const now = this.clock();
    const keys = [`user:${name}`, ...(meta.address ? [`address:${meta.address}`] : [])];
    await this.refuseWhenLimited(name, meta.address, now);
    const user = await this.store.getUser({ name });
    const matches = await checkPassword(user?.passwordHash, password);
    if (!user || !matches || user.disabled) {
      await this.store.recordLoginFailure(keys, now.toISOString());
      throw new LoginRefusedError('wrong user name or password');
    }
    await this.store.clearLoginFailures(`user:${name}`);
    const sessionId = randomSecret(32);
    const csrfToken = randomSecret(24);
    const expiresAt = new Date(now.getTime() + this.settings.sessionTtlMs);
    await this.store.createSession({
      idHash: sha256(sessionId),
      userId: user.id,
      csrfToken,
      createdAt: now.toISOString(),
      expiresAt: expiresAt.toISOString(),
      address: meta.address,
      userAgent: meta.userAgent?.slice(0, 300) ?? null,
    });
    return { user, sessionId, csrfToken, expiresAt };
  }

  private async refuseWhenLimited(name: string, address: string | null, now: Date): Promise<void> {
    const since = new Date(now.getTime() - this.settings.failureWindowMs).toISOString();
    const limits: [string, number][] = [
      [`user:${name}`, this.settings.maxFailuresPerUser],
      ...(address ? [[`address:${address}`, this.settings.maxFailuresPerAddress] as [string, number]] : []),
    ];
    for (const [key, max] of limits) {
      if ((await this.store.countLoginFailures(key, since)) >= max) {
        throw new TooManyLoginsError(Math.ceil(this.settings.failureWindowMs / 1000));
      }
    }
  }

  /** The session the cookie names, while it lives (an expired or idle one is ended). */
  async session(sessionId: string): Promise<Principal | undefined> {
    const now = this.clock();
    const session = await this.store.getSession(sha256(sessionId));
    if (!session || session.user.disabled) return undefined;
    const idle = now.getTime() - Date.parse(session.lastSeenAt) > this.settings.idleTimeoutMs;
    if (Date.parse(session.expiresAt) <= now.getTime() || idle) {
      await this.store.deleteSession(session.idHash);
      return undefined;
    }
    if (now.getTime() - Date.parse(session.lastSeenAt) > TOUCH_EVERY_MS) {
      await this.store.touchSession(session.idHash, now.toISOString());
    }
    return { via: 'session', user: session.user, session };
  }

  async logout(sessionId: string): Promise<void> {
    await this.store.deleteSession(sha256(sessionId));
  }

  /** The user a bearer token stands for, when it is a valid personal API token. */
  async token(token: string): Promise<Principal | undefined> {
    const now = this.clock();
    const found = await checkToken(this.store, token, now);
    if (!found) return undefined;
    if (
      found.record.lastUsedAt === null ||
      now.getTime() - Date.parse(found.record.lastUsedAt) > TOUCH_EVERY_MS
    ) {
      await this.store.touchApiToken(found.record.id, now.toISOString());
    }
    return { via: 'token', user: found.user, tokenId: found.record.id };
  }
}
