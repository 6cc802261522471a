/**
 * Later contract files of a generated dataset, as a new export of the same year would hold them: contracts the
 * first file did not have, for the same buyers and establishments, and republished copies of earlier contracts
 * (a later publication date and, half the time, a revised montant). Successive runs that each add such a file
 * grow a lake the way a new file every few hours does.
 */
import { contractContext, contractRecord } from './contracts.js';
import { writeContractsDocument } from './contracts-document.js';
import type { DatasetContinuation } from './generate.js';
import type { JsonObject } from './json.js';
import { Rng } from './random.js';

export interface ContractBatchOptions {
  /** The dataset the files continue (generateDemoData's result). */
  dataset: DatasetContinuation;
  /** New contracts in each file. */
  contractsPerFile: number;
  /** How many files there will be in all: the new contracts' publication dates run through the rest of the year. */
  files: number;
  /** This file's number, 0 … files - 1. */
  file: number;
  /** Republished copies in this file, as a share of its new contracts. */
  republishedShare: number;
  /**
   * Which earlier contracts are republished: those of the file before (`previous`, the default: like the generated
   * file's own republications, which come a few hundred records after the first), or any contract before the file.
   */
  republishedFrom?: 'previous' | 'any';
  path: string;
}

export interface ContractBatch {
  path: string;
  /** Records in the file: the new contracts, then the republished copies. */
  records: number;
  newContracts: number;
  republished: number;
}

/** Writes file `options.file` of the batches that continue `options.dataset`. */
export async function writeContractBatch(options: ContractBatchOptions): Promise<ContractBatch> {
  const { dataset, contractsPerFile, file } = options;
  const first = contractContext(dataset.seed, dataset.scale, dataset.contractRecords, dataset.establishments);
  // The later contracts are numbered after the first file's, in a dataset as long as all the files together.
  const later = contractContext(
    dataset.seed,
    dataset.scale,
    dataset.contracts + contractsPerFile * options.files,
    dataset.establishments,
  );
  const start = dataset.contracts + contractsPerFile * file;
  const contextOf = (index: number) => (index < dataset.contracts ? first : later);
  const rng = new Rng(dataset.seed * 7919 + file);
  const from = options.republishedFrom === 'any' ? 0 : Math.max(0, start - contractsPerFile);
  const republished = Array.from(
    { length: Math.round(contractsPerFile * options.republishedShare) },
    () => from + rng.int(start - from),
  );
  function* records(): Generator<JsonObject> {
    for (let index = start; index < start + contractsPerFile; index++) yield contractRecord(later, index);
    for (const index of republished) yield contractRecord(contextOf(index), index, true);
  }
  await writeContractsDocument(options.path, records());
  return {
    path: options.path,
    records: contractsPerFile + republished.length,
    newContracts: contractsPerFile,
    republished: republished.length,
  };
}
