/**
 * The HTTP API in process, as `medallion serve` composes it, over a real store and the project of a directory; and a
 * caller with a bearer token. Tests send requests with Hono's `request`: no port, no process.
 */
import { Authenticator } from '../auth/authenticator.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { Project } from '../project/project.js';
import { createApi } from '../server/api.js';
import type { ApiDeps } from '../server/env.js';

export type Api = ReturnType<typeof createApi>;

export async function apiOver(
  store: MetadataStore,
  projectDir: string,
  log: (line: string) => void = () => {},
  deps: Partial<ApiDeps> = {},
): Promise<Api> {
  return createApi(
    {
      ...deps,
      store,
      project: await Project.open({ cwd: projectDir, env: {} }),
      authenticator: new Authenticator(store),
      secure: false,
      worker: 'test',
      startedAt: Date.now(),
    },
    { log },
  );
}

/** Calls the API with a bearer token: the answer's status and its JSON body. */
export function callerWith(api: Api, token: string) {
  return async <T>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await api.request(`http://medallion.test${url}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
}
