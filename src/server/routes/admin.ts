/** Connections and users (admins), and personal API tokens (everyone, their own; admins, anyone's). */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { listConnections, putS3Connection, removeConnection, testConnection } from '../../app/connections.js';
import {
  addUser,
  createToken,
  listTokens,
  listUsers,
  removeUser,
  revokeToken,
  setPassword,
  setRole,
} from '../../app/users.js';
import { allows } from '../../core/roles.js';
import { contextOf, principalOf, type ApiDeps, type ApiEnv } from '../env.js';
import { ERRORS, json, jsonBody, NOT_FOUND, route } from '../route.js';
import { ConnectionSchema, NameParam, RoleSchema, TokenSchema, UserSchema } from '../schemas.js';

const Done = z.object({ done: z.literal(true) });

const connections = route('admin', {
  method: 'get',
  path: '/api/connections',
  summary: 'Named S3 connections (never a secret)',
  tags: ['connections'],
  responses: {
    ...ERRORS,
    200: json(z.object({ connections: z.array(ConnectionSchema) }), 'the connections'),
  },
});

const putConnection = route('admin', {
  method: 'put',
  path: '/api/connections/{name}',
  summary: 'Add or replace an S3 connection; its secret is encrypted at rest and never sent back',
  tags: ['connections'],
  request: {
    params: NameParam,
    body: jsonBody(
      z.object({
        endpoint: z.string().url().optional(),
        region: z.string().min(1),
        pathStyle: z.boolean().optional(),
        accessKeyId: z.string().min(1),
        secretAccessKey: z.string().min(1),
      }),
      'the connection',
    ),
  },
  responses: { ...ERRORS, 200: json(z.object({ replaced: z.boolean() }), 'kept') },
});

const deleteConnection = route('admin', {
  method: 'delete',
  path: '/api/connections/{name}',
  summary: 'Remove a connection',
  tags: ['connections'],
  request: { params: NameParam },
  responses: { ...ERRORS, 200: json(Done, 'removed'), ...NOT_FOUND },
});

const testConnectionRoute = route('admin', {
  method: 'post',
  path: '/api/connections/{name}/test',
  summary: 'Whether the endpoint answers and accepts the credentials (and a bucket, when named)',
  tags: ['connections'],
  request: {
    params: NameParam,
    body: jsonBody(z.object({ bucket: z.string().min(3).max(63).optional() }), 'what to check'),
  },
  responses: {
    ...ERRORS,
    200: json(z.object({ ok: z.boolean(), detail: z.string() }), 'the result'),
    ...NOT_FOUND,
  },
});

const users = route('admin', {
  method: 'get',
  path: '/api/users',
  summary: 'The users and their roles',
  tags: ['users'],
  responses: { ...ERRORS, 200: json(z.object({ users: z.array(UserSchema) }), 'the users') },
});

const addUserRoute = route('admin', {
  method: 'post',
  path: '/api/users',
  summary: 'Add a user (the password is hashed with argon2id, never kept)',
  tags: ['users'],
  request: {
    body: jsonBody(z.object({ name: z.string(), role: RoleSchema, password: z.string() }), 'the user'),
  },
  responses: { ...ERRORS, 201: json(UserSchema, 'added') },
});

const changeUser = route('admin', {
  method: 'patch',
  path: '/api/users/{name}',
  summary: 'Change a user’s role or password (their sessions end)',
  tags: ['users'],
  request: {
    params: NameParam,
    body: jsonBody(z.object({ role: RoleSchema.optional(), password: z.string().optional() }), 'the changes'),
  },
  responses: { ...ERRORS, 200: json(Done, 'changed'), ...NOT_FOUND },
});

const deleteUser = route('admin', {
  method: 'delete',
  path: '/api/users/{name}',
  summary: 'Remove a user, their sessions and tokens (not the last admin)',
  tags: ['users'],
  request: { params: NameParam },
  responses: { ...ERRORS, 200: json(Done, 'removed'), ...NOT_FOUND },
});

const tokens = route('read', {
  method: 'get',
  path: '/api/tokens',
  summary: 'Your personal API tokens (admins: everyone’s), never their secrets',
  tags: ['tokens'],
  responses: { ...ERRORS, 200: json(z.object({ tokens: z.array(TokenSchema) }), 'the tokens') },
});

const createTokenRoute = route('read', {
  method: 'post',
  path: '/api/tokens',
  summary: 'Make yourself a personal API token: shown once, in this answer',
  tags: ['tokens'],
  request: {
    body: jsonBody(
      z.object({ name: z.string().min(1).max(100), expiresAt: z.iso.datetime({ offset: true }).optional() }),
      'the token',
    ),
  },
  responses: { ...ERRORS, 201: json(z.object({ token: z.string(), record: TokenSchema }), 'made') },
});

const revokeTokenRoute = route('read', {
  method: 'delete',
  path: '/api/tokens/{id}',
  summary: 'Revoke a token of yours (admins: anyone’s)',
  tags: ['tokens'],
  request: {
    params: z.object({
      id: z
        .string()
        .regex(/^[0-9a-f]{16}$/)
        .openapi({ param: { name: 'id', in: 'path' } }),
    }),
  },
  responses: { ...ERRORS, 200: json(Done, 'revoked'), ...NOT_FOUND },
});

export function adminRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>();
  app.openapi(connections, async (c) =>
    c.json({ connections: await listConnections(contextOf(deps, c)) }, 200),
  );
  app.openapi(putConnection, async (c) => {
    const body = c.req.valid('json');
    const result = await putS3Connection(contextOf(deps, c), {
      name: c.req.valid('param').name,
      region: body.region,
      accessKeyId: body.accessKeyId,
      secretAccessKey: body.secretAccessKey,
      ...(body.endpoint !== undefined && { endpoint: body.endpoint }),
      ...(body.pathStyle !== undefined && { pathStyle: body.pathStyle }),
    });
    return c.json(result, 200);
  });
  app.openapi(deleteConnection, async (c) => {
    await removeConnection(contextOf(deps, c), c.req.valid('param').name);
    return c.json({ done: true as const }, 200);
  });
  app.openapi(testConnectionRoute, async (c) =>
    c.json(
      await testConnection(contextOf(deps, c), c.req.valid('param').name, c.req.valid('json').bucket),
      200,
    ),
  );

  app.openapi(users, async (c) => c.json({ users: await listUsers(deps.store) }, 200));
  app.openapi(addUserRoute, async (c) => c.json(await addUser(deps.store, c.req.valid('json')), 201));
  app.openapi(changeUser, async (c) => {
    const { name } = c.req.valid('param');
    const { role, password } = c.req.valid('json');
    if (role !== undefined) await setRole(deps.store, name, role);
    if (password !== undefined) await setPassword(deps.store, name, password);
    return c.json({ done: true as const }, 200);
  });
  app.openapi(deleteUser, async (c) => {
    await removeUser(deps.store, c.req.valid('param').name);
    return c.json({ done: true as const }, 200);
  });

  app.openapi(tokens, async (c) => {
    const { user } = principalOf(c);
    return c.json(
      { tokens: await listTokens(deps.store, allows(user.role, 'admin') ? undefined : user.name) },
      200,
    );
  });
  app.openapi(createTokenRoute, async (c) => {
    const { name, expiresAt } = c.req.valid('json');
    const made = await createToken(deps.store, {
      user: principalOf(c).user.name,
      name,
      ...(expiresAt && { expiresAt: new Date(expiresAt) }),
    });
    return c.json(made, 201);
  });
  app.openapi(revokeTokenRoute, async (c) => {
    const { user } = principalOf(c);
    await revokeToken(
      deps.store,
      c.req.valid('param').id,
      allows(user.role, 'admin') ? undefined : user.name,
    );
    return c.json({ done: true as const }, 200);
  });
  return app;
}
