import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../core/errors.js';
import type { PipelineDefinition } from '../core/pipeline.js';

/** The pipelines medallion ships, by name, loaded when asked for. */
export const SHIPPED_PIPELINES: Record<string, () => Promise<PipelineDefinition>> = {
  medallion_data_pipeline: async () =>
    (await import('../pipelines/medallion_data_pipeline/pipeline.js')).default,
  data_quality_checks: async () => (await import('../pipelines/data_quality_checks/pipeline.js')).default,
};

export async function shippedPipeline(
  name: string,
  where: { file?: string | undefined; field?: string } = {},
): Promise<PipelineDefinition> {
  const load = Object.hasOwn(SHIPPED_PIPELINES, name) ? SHIPPED_PIPELINES[name] : undefined;
  if (!load) {
    throw new ConfigError(`no shipped pipeline is named ${name}`, {
      context: { ...(where.file && { file: where.file }), field: where.field ?? '--pipeline' },
      hint: `shipped pipelines: ${Object.keys(SHIPPED_PIPELINES).join(', ')}; give a pipeline of your own as \`module\``,
    });
  }
  return load();
}

/** The pipeline a user's module exports by default, checked. */
export async function loadPipelineModule(file: string): Promise<PipelineDefinition> {
  const url = pathToFileURL(path.resolve(file)).href;
  let module: { default?: unknown };
  try {
    module = (await import(url)) as { default?: unknown };
  } catch (error) {
    throw new ConfigError(`cannot load the pipeline module: ${(error as Error).message}`, {
      context: { file },
      hint: 'a pipeline module is an ES module (.js or .mjs) whose default export is the pipeline definition',
      cause: error,
    });
  }
  if (!module.default || typeof module.default !== 'object') {
    throw new ConfigError('the module has no default export', {
      context: { file },
      hint: 'end it with `export default definePipeline({...})` or `export default {...}`',
    });
  }
  // Loaded here: commands that only read runs need no pipeline definitions (nor zod's schemas of them).
  const { definePipeline } = await import('../core/pipeline.js');
  return definePipeline(module.default as PipelineDefinition);
}
