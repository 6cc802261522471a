/**
 * Who is asking (a session cookie or a personal API token), and whether they may: every route but health and login
 * wants a principal (401), one whose role has the right (403); a browser session changing anything also sends its
 * CSRF token and, when its browser says where it comes from, comes from this origin (403).
 */
import { getCookie } from 'hono/cookie';
import type { MiddlewareHandler } from 'hono';
import { sameSecret } from '../auth/secrets.js';
import { allows, type Permission } from '../core/roles.js';
import type { ApiDeps, ApiEnv } from './env.js';

export const SESSION_COOKIE = 'medallion_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function authenticate(deps: ApiDeps): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const bearer = /^Bearer +(\S+) *$/i.exec(c.req.header('authorization') ?? '')?.[1];
    const cookie = getCookie(c, SESSION_COOKIE);
    const principal = bearer
      ? await deps.authenticator.token(bearer)
      : cookie
        ? await deps.authenticator.session(cookie)
        : undefined;
    c.set('principal', principal);
    await next();
  };
}

const WHAT: Record<Permission, string> = {
  read: 'read',
  operate: 'act on runs (operator or admin)',
  admin: 'administer users and connections (admin)',
};

/** The route's right; for sessions, CSRF and origin checks on whatever changes something. */
export function requires(permission: Permission): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (!principal) {
      return c.json({ error: 'sign in first (a session, or Authorization: Bearer <API token>)' }, 401, {
        'www-authenticate': 'Bearer',
      });
    }
    if (!allows(principal.user.role, permission)) {
      return c.json(
        { error: `${principal.user.name} (${principal.user.role}) may not ${WHAT[permission]}` },
        403,
      );
    }
    if (principal.via === 'session' && !SAFE_METHODS.has(c.req.method)) {
      const sent = c.req.header(CSRF_HEADER);
      if (!sent || !sameSecret(sent, principal.session.csrfToken)) {
        return c.json({ error: `missing or wrong ${CSRF_HEADER} header` }, 403);
      }
      const origin = c.req.header('origin');
      if (origin && new URL(origin).host !== new URL(c.req.url).host) {
        return c.json({ error: `a request from ${origin} may not change anything here` }, 403);
      }
    }
    await next();
  };
}
