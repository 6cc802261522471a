/**
 * Deterministic sample landing data: DECP contracts (JSON), SIRENE establishments (CSV) and the
 * NAF list (CSV), in the formats and with the mess of the real files, at any scale, streamed.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CONTRACTS_FILE,
  CONTRACTS_PER_SCALE,
  contractContext,
  contractRecord,
  republicationDelay,
  type ContractContext,
} from './contracts.js';
import {
  ESTABLISHMENT_HEADER,
  ESTABLISHMENTS_FILE,
  ESTABLISHMENTS_PER_SCALE,
  establishmentContext,
  establishmentLines,
} from './establishments.js';
import { NAF_FILE, NAF_HEADER, buildNafList } from './naf.js';
import { withWriter } from './writer.js';
import { writeContractsDocument } from './contracts-document.js';

export { luhnValid, makeSiret, makeSiren } from './siret.js';
export { siretForEstablishment, isEstablishmentActive } from './establishments.js';
export { CONTRACTS_FILE, ESTABLISHMENTS_FILE, NAF_FILE };

export interface DemoDataOptions {
  scale: number;
  seed: number;
  outDir: string;
  onProgress?: (p: { file: string; records: number }) => void;
}

export interface DemoDataResult {
  files: { name: string; path: string; bytes: number; records: number }[];
  /** What later contract files of the same dataset continue from (see contract-batch.ts). */
  continuation: DatasetContinuation;
}

/** A generated dataset, as later contract files of it need it. */
export interface DatasetContinuation {
  seed: number;
  scale: number;
  /** Distinct establishments in the establishments file: the ones titulaires can be. */
  establishments: number;
  /** Distinct contracts in the contracts file (republished copies apart): contracts 0 … contracts - 1. */
  contracts: number;
  /** Records the contracts file holds (the contracts and the republished copies). */
  contractRecords: number;
}

type Progress = DemoDataOptions['onProgress'];

/** Records per progress report; also bounds how often the generators yield to the event loop. */
const PROGRESS_EVERY = 10_000;

export async function generateDemoData(options: DemoDataOptions): Promise<DemoDataResult> {
  const { scale, seed, outDir, onProgress } = options;
  if (!Number.isFinite(scale) || scale <= 0)
    throw new RangeError(`scale must be a positive number, got ${scale}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  await mkdir(outDir, { recursive: true });

  const naf = buildNafList(seed);
  const nafPath = join(outDir, NAF_FILE);
  await writeNaf(nafPath, naf.lines, onProgress);

  const establishmentRows = Math.max(1, Math.round(ESTABLISHMENTS_PER_SCALE * scale));
  const estPath = join(outDir, ESTABLISHMENTS_FILE);
  const establishments = await writeEstablishments(
    estPath,
    seed,
    naf.subclasses,
    establishmentRows,
    onProgress,
  );

  const contractCount = Math.max(1, Math.round(CONTRACTS_PER_SCALE * scale));
  const contractPath = join(outDir, CONTRACTS_FILE);
  const ctx = contractContext(seed, scale, contractCount, establishments);
  const contracts = await writeContracts(contractPath, ctx, contractCount, onProgress);

  return {
    files: [
      await describe(CONTRACTS_FILE, contractPath, contractCount),
      await describe(ESTABLISHMENTS_FILE, estPath, establishmentRows),
      await describe(NAF_FILE, nafPath, naf.lines.length),
    ],
    continuation: { seed, scale, establishments, contracts, contractRecords: contractCount },
  };
}

async function describe(
  name: string,
  path: string,
  records: number,
): Promise<DemoDataResult['files'][number]> {
  return { name, path, bytes: (await stat(path)).size, records };
}

async function writeNaf(path: string, lines: readonly string[], onProgress: Progress): Promise<void> {
  await withWriter(path, async (w) => {
    w.add(`\uFEFF${NAF_HEADER}\n`);
    for (const line of lines) if (w.add(`${line}\n`)) await w.flush();
  });
  onProgress?.({ file: NAF_FILE, records: lines.length });
}

/** Writes exactly `rows` data rows; returns how many distinct establishments they hold. */
async function writeEstablishments(
  path: string,
  seed: number,
  subclasses: readonly string[],
  rows: number,
  onProgress: Progress,
): Promise<number> {
  const ctx = establishmentContext(seed, subclasses);
  let written = 0;
  let k = 0;
  await withWriter(path, async (w) => {
    w.add(`${ESTABLISHMENT_HEADER}\n`);
    while (written < rows) {
      const lines = establishmentLines(ctx, k++);
      for (const line of lines) {
        if (written === rows) break;
        written++;
        if (w.add(line)) await w.flush();
        if (written % PROGRESS_EVERY === 0) onProgress?.({ file: ESTABLISHMENTS_FILE, records: written });
      }
    }
  });
  onProgress?.({ file: ESTABLISHMENTS_FILE, records: written });
  return k;
}

/**
 * Writes exactly `total` records; returns how many distinct contracts they hold. Slot by slot, a republication
 * that has come due is written before the next new contract; pending republications are a handful of indices,
 * never records.
 */
async function writeContracts(
  path: string,
  ctx: ContractContext,
  total: number,
  onProgress: Progress,
): Promise<number> {
  const pending: { due: number; index: number }[] = [];
  let next = 0;
  function* records() {
    for (let slot = 0; slot < total; slot++) {
      const head = pending[0];
      if (head !== undefined && head.due <= slot) {
        pending.shift();
        yield contractRecord(ctx, head.index, true);
        continue;
      }
      const index = next++;
      const delay = republicationDelay(ctx, index);
      if (delay !== undefined) {
        const due = slot + delay;
        const at = pending.findIndex((p) => p.due > due);
        pending.splice(at < 0 ? pending.length : at, 0, { due, index });
      }
      yield contractRecord(ctx, index);
    }
  }
  await writeContractsDocument(path, records(), (written) => {
    if (written % PROGRESS_EVERY === 0) onProgress?.({ file: CONTRACTS_FILE, records: written });
  });
  onProgress?.({ file: CONTRACTS_FILE, records: total });
  return next;
}
