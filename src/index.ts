/** medallion's public API: what a pipeline module imports. */
export { definePipeline } from './core/pipeline.js';
export type {
  CustomTaskDefinition,
  EngineKind,
  ParamDefinition,
  ParamValue,
  TaskContext,
  TaskOutcome,
  TaskPolicy,
  ScheduleDefinition,
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
export { checkLayerHealth } from './runner/layer-health.js';
export type { LayerHealth, LayerHealthThresholds, LayerVolume } from './runner/layer-health.js';
export type { Expectation, ExpectationAction, ExpectationResult } from './core/expectations.js';
export { applyRetention, describeRetention } from './runner/retention.js';
export type {
  LayerRetention,
  RetentionOptions,
  RetentionReport,
  RetentionResult,
} from './runner/retention.js';
export type { RetentionDuration, RetentionPolicy, RetentionSettings } from './core/retention.js';
