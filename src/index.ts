/** medallion's public API: what a pipeline module imports. */
export { definePipeline } from './core/pipeline.js';
export type {
  CsvFormat,
  JsonFormat,
  JsonShape,
  Layer,
  PipelineDefinition,
  Refinement,
  SourceDefinition,
  SqlContext,
  TableDefinition,
} from './core/pipeline.js';
export { MedallionError, SourceFileError, ConfigError } from './core/errors.js';
