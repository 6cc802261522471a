import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';
import { ORDERS_CSV, PIPELINE_MODULE, PROJECT_FILE, PROJECT_README } from './project-template.js';

/** Writes a small, runnable pipeline project into `dir`, which must be new or empty. */
export async function scaffoldProject(dir: string): Promise<string[]> {
  const existing = await readdir(dir).catch(() => []);
  if (existing.length > 0) {
    throw new ConfigError(`${dir} is not empty`, { context: { file: dir }, hint: 'choose a new directory' });
  }
  const files: [string, string][] = [
    ['medallion.config.json', PROJECT_FILE],
    ['pipeline.mjs', PIPELINE_MODULE],
    ['source/orders-2024-01.csv', ORDERS_CSV],
    ['README.md', PROJECT_README],
  ];
  for (const [name, content] of files) {
    const target = path.join(dir, name);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  return files.map(([name]) => path.join(dir, name));
}
