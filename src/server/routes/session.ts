/** Health (for load balancers: says nothing else), and signing in and out. */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { getConnInfo } from '@hono/node-server/conninfo';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { LoginRefusedError, TooManyLoginsError } from '../../auth/authenticator.js';
import { SESSION_COOKIE } from '../auth-middleware.js';
import type { ApiDeps, ApiEnv } from '../env.js';
import { ERRORS, json, jsonBody, route } from '../route.js';
import { ErrorSchema, RoleSchema } from '../schemas.js';

const Me = z
  .object({
    name: z.string(),
    role: RoleSchema,
    /** Send it as the x-csrf-token header of every change (sessions only). */
    csrfToken: z.string().nullable(),
    via: z.enum(['session', 'token']),
  })
  .openapi('Me');

const health = route('public', {
  method: 'get',
  path: '/api/health',
  summary: 'Whether the server answers (no credentials needed; says nothing else)',
  tags: ['session'],
  responses: { ...ERRORS, 200: json(z.object({ status: z.literal('ok') }), 'it answers') },
});

const login = route('public', {
  method: 'post',
  path: '/api/auth/login',
  summary: 'Sign in: sets the session cookie; returns the CSRF token',
  tags: ['session'],
  request: {
    body: jsonBody(
      z.object({ name: z.string().min(1).max(100), password: z.string().min(1).max(1000) }),
      'credentials',
    ),
  },
  responses: {
    ...ERRORS,
    200: json(Me, 'signed in'),
    429: { content: { 'application/json': { schema: ErrorSchema } }, description: 'too many failed logins' },
  },
});

const logout = route('read', {
  method: 'post',
  path: '/api/auth/logout',
  summary: 'Sign out: ends the session',
  tags: ['session'],
  responses: { ...ERRORS, 200: json(z.object({ signedOut: z.literal(true) }), 'signed out') },
});

const me = route('public', {
  method: 'get',
  path: '/api/auth/me',
  summary: 'Who is signed in (with the session’s CSRF token), or that nobody is: part of signing in',
  tags: ['session'],
  responses: {
    ...ERRORS,
    200: json(z.union([Me, z.object({ signedIn: z.literal(false) })]), 'the user, or nobody'),
  },
});

export function sessionRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>();
  app.openapi(health, (c) => c.json({ status: 'ok' as const }, 200));

  app.openapi(login, async (c) => {
    const { name, password } = c.req.valid('json');
    try {
      const result = await deps.authenticator.login(name, password, {
        address: addressOf(c),
        userAgent: c.req.header('user-agent') ?? null,
      });
      setCookie(c, SESSION_COOKIE, result.sessionId, {
        httpOnly: true,
        sameSite: 'Lax',
        secure: deps.secure,
        path: '/',
        expires: result.expiresAt,
      });
      return c.json(
        {
          name: result.user.name,
          role: result.user.role,
          csrfToken: result.csrfToken,
          via: 'session' as const,
        },
        200,
      );
    } catch (error) {
      if (error instanceof TooManyLoginsError) {
        return c.json({ error: error.message, hint: error.hint }, 429, {
          'retry-after': String(error.retryAfterSeconds),
        });
      }
      if (error instanceof LoginRefusedError) return c.json({ error: error.message }, 401);
      throw error;
    }
  });

  app.openapi(logout, async (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie) await deps.authenticator.logout(cookie);
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: deps.secure });
    return c.json({ signedOut: true as const }, 200);
  });

  app.openapi(me, (c) => {
    const principal = c.get('principal');
    if (!principal) return c.json({ signedIn: false as const }, 200);
    return c.json(
      {
        name: principal.user.name,
        role: principal.user.role,
        csrfToken: principal.via === 'session' ? principal.session.csrfToken : null,
        via: principal.via,
      },
      200,
    );
  });
  return app;
}

/** The peer's address (not a header a client may set: medallion serves directly, or a proxy's address is what it is). */
function addressOf(c: Parameters<typeof getConnInfo>[0]): string | null {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null;
  }
}
