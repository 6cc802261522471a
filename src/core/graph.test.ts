import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { buildTaskGraph } from './graph.js';
import { definePipeline, macrosFor, type PipelineDefinition } from './pipeline.js';

const source = {
  name: 'orders',
  pattern: 'orders-*.csv',
  bronzeTable: 'orders',
  format: { type: 'csv' as const, delimiter: ',', requiredColumns: ['id'] },
};

function pipeline(tables: PipelineDefinition['tables']): PipelineDefinition {
  return { name: 'shop', sources: [source], tables };
}

describe('the task graph', () => {
  it('follows the tables each SQL references, every task after its inputs', () => {
    const tasks = buildTaskGraph(
      pipeline([
        { name: 'daily', layer: 'gold', sql: ({ ref }) => `SELECT * FROM ${ref('silver', 'orders')}` },
        { name: 'orders', layer: 'silver', sql: ({ ref }) => `SELECT * FROM ${ref('bronze', 'orders')}` },
      ]),
    );
    expect(tasks.map((task) => [task.id, task.dependsOn])).toEqual([
      ['ingest', []],
      ['bronze.orders', ['ingest']],
      ['silver.orders', ['bronze.orders']],
      ['gold.daily', ['silver.orders']],
      ['quality_check', ['bronze.orders', 'gold.daily', 'silver.orders']],
    ]);
  });

  it('names the table and the missing reference when a SQL refers to an undeclared table', () => {
    expect(() =>
      buildTaskGraph(
        pipeline([
          { name: 'daily', layer: 'gold', sql: ({ ref }) => `SELECT * FROM ${ref('silver', 'nope')}` },
        ]),
      ),
    ).toThrow(/gold.daily references silver.nope/);
  });

  it('refuses tables that depend on each other in a cycle', () => {
    expect(() =>
      buildTaskGraph(
        pipeline([
          { name: 'a', layer: 'gold', sql: ({ ref }) => `SELECT * FROM ${ref('gold', 'b')}` },
          { name: 'b', layer: 'gold', sql: ({ ref }) => `SELECT * FROM ${ref('gold', 'a')}` },
        ]),
      ),
    ).toThrow(/cycle: gold.a → gold.b → gold.a/);
  });
});

describe('definePipeline', () => {
  it('names the field at fault in an invalid definition', () => {
    const bad = { ...pipeline([]), sources: [{ ...source, format: { ...source.format, delimiter: ';;' } }] };
    expect(() => definePipeline(bad)).toThrow(ConfigError);
    expect(() => definePipeline(bad)).toThrow(/sources\.0\.format\.delimiter: one character/);
  });

  it('refuses a table declared twice', () => {
    const sql = () => 'SELECT 1';
    expect(() =>
      definePipeline(
        pipeline([
          { name: 't', layer: 'gold', sql },
          { name: 't', layer: 'gold', sql },
        ]),
      ),
    ).toThrow(/gold.t is declared twice/);
  });

  it('takes macros as a list for DuckDB or per engine, and refuses an engine it does not know', () => {
    const plain = definePipeline({ ...pipeline([]), macros: ['CREATE MACRO one() AS 1'] });
    expect(macrosFor(plain, 'duckdb')).toEqual(['CREATE MACRO one() AS 1']);
    expect(macrosFor(plain, 'spark')).toEqual([]);
    const spark = ['CREATE TEMPORARY FUNCTION one() RETURNS INT RETURN 1'];
    const both = definePipeline({ ...pipeline([]), macros: { spark } });
    expect(macrosFor(both, 'spark')).toEqual(spark);
    expect(macrosFor(both, 'duckdb')).toEqual([]);
    const unknown = { ...pipeline([]), macros: { postgres: ['SELECT 1'] } } as unknown as PipelineDefinition;
    expect(() => definePipeline(unknown)).toThrow(/macros/);
  });

  it('checks the schedule: a bad cron expression, or neither cron nor every, names the field', () => {
    const startDate = '2026-01-01T00:00:00Z';
    expect(() => definePipeline({ ...pipeline([]), schedule: { cron: '0 25 * * *', startDate } })).toThrow(
      /schedule.cron/,
    );
    expect(() => definePipeline({ ...pipeline([]), schedule: { startDate } })).toThrow(
      /give either cron or every/,
    );
    expect(() => definePipeline({ ...pipeline([]), taskDefaults: { retryDelay: '5 minutes' } })).toThrow(
      /taskDefaults.retryDelay/,
    );
    expect(definePipeline({ ...pipeline([]), schedule: { every: '12h', startDate } }).schedule?.every).toBe(
      '12h',
    );
  });

  it('refuses names that are not lower_snake_case', () => {
    expect(() => definePipeline({ ...pipeline([]), name: 'My Pipeline' })).toThrow(
      /at name: use lower_snake_case/,
    );
  });
});
