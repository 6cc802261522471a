/**
 * Child process of the benchmark: opens a table as `medallion tables show` does (its description at the latest
 * version, then its first rows), in a process whose caches are empty, then once more; prints one JSON line on
 * stdout: { showMs, warmMs, version, rows }.
 *
 *   node dist/bench/run-table-open.js --lake DIR --table layer.table
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { projectLakeReader } from '../app/lake-reader.js';
import { describeTable, previewRows, type TableLayer } from '../app/tables.js';
import { Project } from '../project/project.js';
import type { TableOpenChildOutput } from './table-open.js';

const { values } = parseArgs({ options: { lake: { type: 'string' }, table: { type: 'string' } } });
const [layer, name] = values.table?.split('.') ?? [];
if (!values.lake || !layer || !name)
  throw new Error('usage: run-table-open.js --lake DIR --table layer.table');

// No project file: the lake given is the one lake, as `medallion tables --lake DIR` sees it.
const project = await Project.open({ cwd: os.tmpdir(), env: {} });
const ctx = { project, locations: { lake: values.lake } };
const reader = projectLakeReader(project, () => Promise.reject(new Error('no named connections here')));
const ref = { layer: layer as TableLayer, table: name };

async function show(): Promise<{ ms: number; version: number; rows: number }> {
  const started = performance.now();
  const detail = await describeTable(ctx, reader, ref);
  const page = await previewRows(ctx, reader, ref, { version: detail.version, limit: 20 });
  return { ms: performance.now() - started, version: detail.version, rows: page.rows.length };
}

try {
  const cold = await show();
  const warm = await show();
  const output: TableOpenChildOutput = {
    showMs: cold.ms,
    warmMs: warm.ms,
    version: cold.version,
    rows: cold.rows,
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
} finally {
  await reader.close();
}
