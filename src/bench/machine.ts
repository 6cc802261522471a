/** The machine a benchmark ran on. */
import os from 'node:os';
import { DuckDBInstance } from '@duckdb/node-api';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  totalMemoryBytes: number;
  platform: string;
  node: string;
  duckdb: string;
}

export async function machineInfo(): Promise<MachineInfo> {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    duckdb: await duckdbVersion(),
  };
}

async function duckdbVersion(): Promise<string> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll('SELECT version() AS v');
    const [row] = reader.getRowObjectsJson();
    return String(row?.['v'] ?? 'unknown');
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
