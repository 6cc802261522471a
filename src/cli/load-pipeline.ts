import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../core/errors.js';
import { definePipeline, type PipelineDefinition } from '../core/pipeline.js';

/** The shipped example, or the pipeline a user's module exports by default. */
export async function loadPipeline(file: string | undefined): Promise<PipelineDefinition> {
  if (!file) return (await import('../pipelines/medallion_data_pipeline/pipeline.js')).default;
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
  return definePipeline(module.default as PipelineDefinition);
}
