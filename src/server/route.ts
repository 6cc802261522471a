/**
 * A route of the API: its OpenAPI description, and who may call it. The right is enforced by a middleware that runs
 * before any validation (so that a caller without it learns nothing from a 400) and written in the document as
 * `x-permission`, which the route-auth test walks.
 */
import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { SecurityRequirementObject } from 'openapi3-ts/oas31';
import type { Permission } from '../core/roles.js';
import { requires } from './auth-middleware.js';
import { ErrorSchema } from './schemas.js';

export type Access = Permission | 'public';

const errors = (status: string) => ({
  content: { 'application/json': { schema: ErrorSchema } },
  description: status,
});

/** The answers every route may give besides its own: spread them into its `responses`. */
export const ERRORS = {
  400: errors('the request is not valid: the message names the field'),
  401: errors('not signed in'),
  403: errors('signed in without the right, or a change without its CSRF token'),
} as const;

/** Either a session cookie or a bearer token will do. */
const SECURITY: SecurityRequirementObject[] = [{ session: [] }, { bearer: [] }];

export function route<const R extends Omit<RouteConfig, 'middleware'>>(access: Access, config: R) {
  return createRoute({
    ...config,
    middleware: access === 'public' ? [] : [requires(access)],
    security: access === 'public' ? [] : SECURITY,
    'x-permission': access,
  });
}

/** A 404 answer, for routes about one thing. */
export const NOT_FOUND = { 404: errors('no such thing (the message says which)') } as const;

/** A JSON body of this schema. */
export function jsonBody<S>(schema: S, description: string) {
  return { content: { 'application/json': { schema } }, description, required: true } as const;
}

/** A JSON answer of this schema. */
export function json<S>(schema: S, description: string) {
  return { content: { 'application/json': { schema } }, description } as const;
}
