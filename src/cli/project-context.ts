/**
 * The project every command works in: found once per command from `--config`, MEDALLION_CONFIG or the nearest
 * medallion.config.json, then asked for the database, the pipelines and their locations.
 */
import os from 'node:os';
import type { AppContext } from '../app/context.js';
import { ConfigError } from '../core/errors.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { Project } from '../project/project.js';
import { fail } from './exit.js';

let configFlag: string | undefined;

/** Set by main.ts from the global `--config` option before any command runs. */
export function useConfigFlag(file: string | undefined): void {
  configFlag = file;
}

export function openProject(): Promise<Project> {
  return Project.open({ ...(configFlag !== undefined && { config: configFlag }) });
}

/** The flags of commands that read or write the metadata store. */
export interface StoreFlags {
  db?: string;
  /** Without a project file or --db: the lake whose database to use. */
  lake?: string;
  json?: boolean;
}

export async function openStore(project: Project, flags: StoreFlags): Promise<MetadataStore> {
  return openMetadataStore(project.databaseUrl(flags.db, flags.lake && project.lakeFromFlag(flags.lake)));
}

/** Opens the project and its store, does the work, closes the store; any error exits as fail() says. */
export async function withStore(
  flags: StoreFlags,
  work: (store: MetadataStore, project: Project) => Promise<void>,
): Promise<void> {
  try {
    const project = await openProject();
    const store = await openStore(project, flags);
    try {
      await work(store, project);
    } finally {
      await store.close();
    }
  } catch (error) {
    fail(error);
  }
}

/** Who acts on the command line: the user and the host. */
export function cliActor(): string {
  return `${os.userInfo().username}@${os.hostname()}`;
}

/** withStore, with the application context the app functions take. */
export async function withApp(flags: StoreFlags, work: (ctx: AppContext) => Promise<void>): Promise<void> {
  await withStore(flags, (store, project) => work({ store, project, actor: cliActor() }));
}

/** The lake a command works on: `--lake`, else the one lake of the project's pipelines. */
export async function projectLake(project: Project, lakeFlag: string | undefined): Promise<string> {
  if (lakeFlag) return project.lakeFromFlag(lakeFlag);
  const lakes = new Set(
    (await project.pipelines()).flatMap((pipeline) => project.locations(pipeline)?.lake ?? []),
  );
  const [only, ...others] = lakes;
  if (only !== undefined && others.length === 0) return only;
  throw new ConfigError(
    lakes.size === 0 ? 'no lake is given' : `the project has ${lakes.size} lakes: say which`,
    {
      context: { field: '--lake' },
      hint: lakes.size === 0 ? 'pass --lake DIR (or s3://…)' : `--lake one of ${[...lakes].join(', ')}`,
    },
  );
}
