import { describe, expect, it } from 'vitest';
import { lineageOf, tasksOf } from '../../../app/pipelines.js';
import pipeline from '../../../pipelines/medallion_data_pipeline/pipeline.js';
import { graphModel, shapeKey } from './graph-model.js';

const shape = { tasks: tasksOf(pipeline), lineage: lineageOf(pipeline) };

describe('the graphs of a pipeline', () => {
  it('draws each task with its dependencies and its state in the run', () => {
    const model = graphModel(shape, 'tasks', { ingest: 'success', 'silver.codes_naf': 'running' });
    expect(model.nodes.map((node) => node.id)).toEqual(shape.tasks.map((task) => task.id));
    expect(model.nodes.find((node) => node.id === 'silver.codes_naf')).toMatchObject({
      kind: 'table',
      state: 'running',
    });
    expect(model.nodes.find((node) => node.id === 'gold.summary_by_region')?.state).toBeNull();
    expect(model.edges).toContainEqual({ from: 'ingest', to: 'bronze.codes_naf' });
    expect(model.edges).toContainEqual({ from: 'bronze.codes_naf', to: 'silver.codes_naf' });
  });

  it('colours a table of the lineage by the task that writes it, and leaves sources uncoloured', () => {
    const model = graphModel(shape, 'lineage', { ingest: 'success', 'bronze.codes_naf': 'failed' });
    const source = model.nodes.find((node) => node.id === 'source.codes_naf');
    expect(source).toMatchObject({ kind: 'source', task: null, state: null });
    expect(source?.label).toMatch(/^codes_naf \(.+\)$/);
    expect(model.nodes.find((node) => node.id === 'bronze.codes_naf')).toMatchObject({
      kind: 'bronze',
      state: 'failed',
    });
    expect(model.edges).toContainEqual({ from: 'source.codes_naf', to: 'bronze.codes_naf' });
  });

  it('keeps the same shape while only the states change, so that nothing is laid out again', () => {
    const before = graphModel(shape, 'tasks', {});
    const after = graphModel(shape, 'tasks', { ingest: 'running' });
    expect(shapeKey(after)).toBe(shapeKey(before));
    expect(shapeKey(graphModel(shape, 'lineage', {}))).not.toBe(shapeKey(before));
  });
});
