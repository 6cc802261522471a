/**
 * What the application functions work with — the same for the CLI and the HTTP API, so that neither writes a use
 * case twice: the metadata store, the project (pipelines and their locations), and who is acting.
 */
import type { MetadataStore } from '../metadata/metadata-store.js';
import type { LocationFlags, Project } from '../project/project.js';

export interface AppContext {
  store: MetadataStore;
  project: Project;
  /** Who acts, as stop reasons and records name them: `ann@host` on the command line, a user's name in the API. */
  actor: string;
  /** Locations that stand in for the project's (a server started with --lake/--source). */
  locations?: LocationFlags;
}
