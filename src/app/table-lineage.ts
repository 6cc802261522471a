/**
 * Which tables of a lake read which, from the definitions of the pipelines that write it (their table lineage):
 * what says that a table is stale and which tables a restore leaves to be rebuilt.
 */
import { lineageOf } from './pipelines.js';
import type { LakeContext, LakeInfo } from './tables.js';

/** Each table (`layer.table`) the lake's pipelines compute, with the tables its SQL reads. */
export async function tableReads(ctx: LakeContext, lake: LakeInfo): Promise<Map<string, string[]>> {
  const reads = new Map<string, string[]>();
  for (const pipeline of await ctx.project.pipelines()) {
    if (!lake.pipelines.includes(pipeline.name)) continue;
    for (const { from, to } of lineageOf(pipeline).edges) {
      // A source's files are no table: new ones are the ingest's business.
      if (!from.startsWith('source.')) reads.set(to, [...(reads.get(to) ?? []), from]);
    }
  }
  return reads;
}

/** The tables that read `table`, by name. */
export function readersOf(reads: ReadonlyMap<string, readonly string[]>, table: string): string[] {
  return [...reads].filter(([, inputs]) => inputs.includes(table)).map(([reader]) => reader);
}
