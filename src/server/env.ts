/** What every request of the API carries through its middlewares, and what the routes are built from. */
import type { AppContext } from '../app/context.js';
import type { LakeReader } from '../app/lake-reader.js';
import type { Authenticator, Principal } from '../auth/authenticator.js';
import type { PipelineDefinition } from '../core/pipeline.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import type { LocationFlags, Project } from '../project/project.js';

export interface ApiEnv {
  Variables: {
    /** Who is asking; undefined before sign-in. */
    principal: Principal | undefined;
  };
}

export interface ApiDeps {
  store: MetadataStore;
  project: Project;
  authenticator: Authenticator;
  /** The server speaks TLS: the session cookie is marked Secure. */
  secure: boolean;
  /** The built UI (index.html and its assets); none: the API alone. */
  uiDir?: string;
  /** This process, as its scheduler names itself. */
  worker: string;
  /** The locations the server was started with (--lake, --source), standing in for the project's. */
  locations?: LocationFlags;
  startedAt: number;
  /** What reads the lakes (tables, objects); default: one made when first needed, never closed. */
  lakeReader?: LakeReader;
  /** How long POST /api/query may run a query (default QUERY_TIME_LIMIT_MS). */
  queryTimeLimitMs?: number;
}

/** The application context of a request: the signed-in user acts. */
export function appContext(deps: ApiDeps, principal: Principal): AppContext {
  return {
    store: deps.store,
    project: deps.project,
    actor: principal.user.name,
    ...(deps.locations && { locations: deps.locations }),
  };
}

/** The pipelines the server knows (the project's). */
export async function knownPipelines(deps: ApiDeps): Promise<PipelineDefinition[]> {
  return deps.project.pipelines();
}

/** The signed-in principal of a route behind `requires` (which answered 401 otherwise). */
export function principalOf(c: { get(key: 'principal'): Principal | undefined }): Principal {
  const principal = c.get('principal');
  if (!principal) throw new Error('a route behind `requires` ran without a principal');
  return principal;
}

/** The application context of a request behind `requires`. */
export function contextOf(deps: ApiDeps, c: { get(key: 'principal'): Principal | undefined }): AppContext {
  return appContext(deps, principalOf(c));
}
