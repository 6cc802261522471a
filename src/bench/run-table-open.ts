/**
 * Child process of the benchmark: opens a table as `medallion tables show` does (its description at the latest
 * version and its first rows: showTable), in a process whose caches are empty, then once more; prints one JSON line on
 * stdout: { showMs, cpuMs, warmMs, version, rows }.
 *
 *   node dist/bench/run-table-open.js --lake DIR --table layer.table
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { projectLakeReader } from '../app/lake-reader.js';
import { showTable } from '../app/table-rows.js';
import type { TableLayer } from '../app/tables.js';
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

async function show(): Promise<{ ms: number; cpuMs: number; version: number; rows: number }> {
  const [started, cpu] = [performance.now(), process.cpuUsage()];
  const shown = await showTable(ctx, reader, ref, { limit: 20 });
  const used = process.cpuUsage(cpu);
  return {
    ms: performance.now() - started,
    cpuMs: (used.user + used.system) / 1000,
    version: shown.table.version,
    rows: shown.rows.rows.length,
  };
}

try {
  const cold = await show();
  const warm = await show();
  const output: TableOpenChildOutput = {
    showMs: cold.ms,
    cpuMs: cold.cpuMs,
    warmMs: warm.ms,
    version: cold.version,
    rows: cold.rows,
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
} finally {
  await reader.close();
}
