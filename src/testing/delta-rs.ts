import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** Test helper: reads a Delta table with delta-rs (Python `deltalake`), an independent implementation. */
const python = path.resolve('.cache/py/bin/python');
const script = path.resolve('scripts/delta_export.py');

export function deltaRsAvailable(): boolean {
  try {
    execFileSync(python, ['-c', 'import deltalake, pyarrow'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Under CI a missing reader is a failure, not a skip. */
export function skipWithoutDeltaRs(): boolean {
  const available = deltaRsAvailable();
  if (!available && process.env.CI === 'true') {
    throw new Error('delta-rs is not installed in .cache/py: run `node scripts/test-env.mjs`');
  }
  if (!available)
    console.warn('skipped: delta-rs (python deltalake) is not installed; run `node scripts/test-env.mjs`');
  return !available;
}

export interface DeltaRsRead {
  version: number;
  rows: number;
  minReaderVersion: number;
  minWriterVersion: number;
  partitionColumns: string[];
}

export function exportWithDeltaRs(tableDir: string, outParquet: string, version?: number): DeltaRsRead {
  const args = [script, tableDir, outParquet, ...(version === undefined ? [] : [String(version)])];
  return JSON.parse(execFileSync(python, args, { encoding: 'utf8' })) as DeltaRsRead;
}
