/**
 * The slice of the Delta Lake protocol medallion writes and reads: reader 1 / writer 2,
 * JSON commits under `_delta_log/`, no checkpoints, no deletion vectors, no column mapping.
 * https://github.com/delta-io/delta/blob/master/PROTOCOL.md
 */

export type DeltaPrimitiveType =
  | 'string'
  | 'long'
  | 'integer'
  | 'short'
  | 'byte'
  | 'float'
  | 'double'
  | 'boolean'
  | 'binary'
  | 'date'
  | 'timestamp'
  | `decimal(${number},${number})`;

export interface DeltaStructField {
  name: string;
  type: DeltaType;
  nullable: boolean;
  metadata: Record<string, unknown>;
}
export interface DeltaStructType {
  type: 'struct';
  fields: DeltaStructField[];
}
export interface DeltaArrayType {
  type: 'array';
  elementType: DeltaType;
  containsNull: boolean;
}
export interface DeltaMapType {
  type: 'map';
  keyType: DeltaType;
  valueType: DeltaType;
  valueContainsNull: boolean;
}
export type DeltaType = DeltaPrimitiveType | DeltaStructType | DeltaArrayType | DeltaMapType;

export const READER_VERSION = 1;
export const WRITER_VERSION = 2;

export interface ProtocolAction {
  minReaderVersion: number;
  minWriterVersion: number;
}
export interface MetadataAction {
  id: string;
  name?: string;
  description?: string;
  format: { provider: 'parquet'; options: Record<string, string> };
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  createdTime: number;
}
/** Per-file statistics (Delta `add.stats`): readers use them to skip files and count rows. */
export interface FileStats {
  numRecords: number;
  nullCount?: Record<string, number>;
  minValues?: Record<string, number | string>;
  maxValues?: Record<string, number | string>;
}
export interface AddAction {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  stats?: string;
}
export interface RemoveAction {
  path: string;
  deletionTimestamp: number;
  dataChange: boolean;
  extendedFileMetadata?: boolean;
  partitionValues?: Record<string, string | null>;
  size?: number;
}
/** Delta's SetTransaction: the last version an application wrote, so a retried write is not applied twice. */
export interface TxnAction {
  appId: string;
  version: number;
  lastUpdated?: number;
}
export interface CommitInfoAction {
  timestamp: number;
  operation: string;
  operationParameters: Record<string, string>;
  engineInfo: string;
  [extra: string]: unknown;
}

export type DeltaAction =
  | { protocol: ProtocolAction }
  | { metaData: MetadataAction }
  | { add: AddAction }
  | { remove: RemoveAction }
  | { txn: TxnAction }
  | { commitInfo: CommitInfoAction };

export const LOG_DIR = '_delta_log';

export function commitFileName(version: number): string {
  return `${String(version).padStart(20, '0')}.json`;
}

export function parseCommitVersion(fileName: string): number | undefined {
  const match = /^(\d{20})\.json$/.exec(fileName);
  return match ? Number(match[1]) : undefined;
}

export function serializeActions(actions: readonly DeltaAction[]): string {
  return actions.map((action) => JSON.stringify(action)).join('\n') + '\n';
}

export function parseActions(text: string, source: string): DeltaAction[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      try {
        return JSON.parse(line) as DeltaAction;
      } catch (error) {
        throw new Error(`${source}: line ${index + 1} is not a JSON action`, { cause: error });
      }
    });
}

export function parseStats(add: AddAction): FileStats | undefined {
  if (!add.stats) return undefined;
  const parsed = JSON.parse(add.stats) as Partial<FileStats>;
  return typeof parsed.numRecords === 'number' ? { ...parsed, numRecords: parsed.numRecords } : undefined;
}
