/**
 * The project file: `medallion.config.json` (or `medallion.config.mjs`, whose default export is the same object,
 * for those who want comments or computed values). It binds a project's pipelines to their locations and says
 * where the metadata database is, how the engine runs, where alerts go and how `serve` listens. Validated at load:
 * every problem names its key and the file.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { ConfigError, describeError } from '../core/errors.js';

export const PROJECT_FILE_NAMES = ['medallion.config.json', 'medallion.config.mjs'] as const;

export type ProjectFileContent = z.output<typeof import('./project-schema.js').projectSchema>;

export interface ProjectFile {
  /** Absolute path of the file. */
  file: string;
  /** Its directory: relative paths in it are relative to this. */
  dir: string;
  content: ProjectFileContent;
}

/** The project file of `dir` or of its nearest ancestor that has one, like package.json; undefined if none. */
export function findProjectFile(dir: string): string | undefined {
  let current = path.resolve(dir);
  for (;;) {
    for (const name of PROJECT_FILE_NAMES) {
      const candidate = path.join(current, name);
      if (existsSync(candidate)) return candidate;
    }
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

export async function loadProjectFile(file: string): Promise<ProjectFile> {
  const absolute = path.resolve(file);
  const raw = await readRaw(absolute);
  // Loaded with the first project file: commands run without one (and tests) need not load zod.
  const { projectSchema } = await import('./project-schema.js');
  const parsed = projectSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.join('.') ?? '';
    const unknown = issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : undefined;
    throw new ConfigError(
      unknown
        ? `unknown key${issue?.code === 'unrecognized_keys' && issue.keys.length > 1 ? 's' : ''} ${unknown}${key ? ` in ${key}` : ''}`
        : `${key || 'the file'}: ${issue?.message}`,
      {
        context: { file: absolute, ...(key && { field: key }) },
        hint: 'see README.md, "The project file", for every key',
      },
    );
  }
  return { file: absolute, dir: path.dirname(absolute), content: parsed.data };
}

async function readRaw(file: string): Promise<unknown> {
  if (file.endsWith('.mjs') || file.endsWith('.js')) {
    let module: { default?: unknown };
    try {
      module = (await import(pathToFileURL(file).href)) as { default?: unknown };
    } catch (error) {
      throw new ConfigError(`cannot load the project file: ${describeError(error)}`, {
        context: { file },
        cause: error,
      });
    }
    if (module.default === undefined) {
      throw new ConfigError('the project file has no default export', {
        context: { file },
        hint: 'end it with `export default { pipelines: {…}, lake: "lake" }`',
      });
    }
    return module.default;
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the project file: ${describeError(error)}`, { context: { file } });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError(`the project file is not valid JSON: ${describeError(error)}`, {
      context: { file },
    });
  }
}
