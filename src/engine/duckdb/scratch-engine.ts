import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { DuckDbEngine } from './engine.js';

/**
 * Runs `work` on a small DuckDB of its own, in a fresh scratch directory under `base` named after `label`: for
 * work beside the runs (a summary, a maintenance pass) that must not take their memory. The engine is closed and
 * its directory removed when the work ends.
 */
export async function withScratchEngine<T>(
  base: string,
  label: string,
  work: (engine: DuckDbEngine) => Promise<T>,
): Promise<T> {
  const scratchDir = await mkdtemp(path.join(base, `medallion-${label}-`));
  try {
    const engine = await DuckDbEngine.create({ scratchDir, memoryLimit: '256MB', threads: 2 });
    try {
      return await work(engine);
    } finally {
      engine.close();
    }
  } finally {
    await rm(scratchDir, { recursive: true, force: true });
  }
}
