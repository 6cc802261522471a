import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';
import { ConfigError } from '../../core/errors.js';
import type { DeltaType } from '../../table/delta-protocol.js';
import { quoteIdent } from '../dialects/duckdb.js';

/**
 * DuckDB types → Delta types, and the cast that makes a column writable when DuckDB's type has no
 * Delta twin at reader 1 / writer 2 (unsigned ints, HUGEINT, naive timestamps, UUID, ENUM…).
 */
export interface WritableColumn {
  name: string;
  deltaType: DeltaType;
  /** SQL expression producing the column as written, e.g. `CAST("x" AS VARCHAR)`. */
  expression: string;
}

const DIRECT: Partial<Record<DuckDBTypeId, DeltaType>> = {
  [DuckDBTypeId.BOOLEAN]: 'boolean',
  [DuckDBTypeId.TINYINT]: 'byte',
  [DuckDBTypeId.SMALLINT]: 'short',
  [DuckDBTypeId.INTEGER]: 'integer',
  [DuckDBTypeId.BIGINT]: 'long',
  [DuckDBTypeId.FLOAT]: 'float',
  [DuckDBTypeId.DOUBLE]: 'double',
  [DuckDBTypeId.DATE]: 'date',
  [DuckDBTypeId.TIMESTAMP_TZ]: 'timestamp',
  [DuckDBTypeId.VARCHAR]: 'string',
  [DuckDBTypeId.BLOB]: 'binary',
};

/** Top-level types that need a cast before they can be written. */
const CASTS: Partial<Record<DuckDBTypeId, { sql: string; delta: DeltaType }>> = {
  [DuckDBTypeId.UTINYINT]: { sql: 'SMALLINT', delta: 'short' },
  [DuckDBTypeId.USMALLINT]: { sql: 'INTEGER', delta: 'integer' },
  [DuckDBTypeId.UINTEGER]: { sql: 'BIGINT', delta: 'long' },
  [DuckDBTypeId.UBIGINT]: { sql: 'DECIMAL(20,0)', delta: 'decimal(20,0)' },
  [DuckDBTypeId.HUGEINT]: { sql: 'DECIMAL(38,0)', delta: 'decimal(38,0)' },
  // A timestamp without zone is read as UTC: Delta's `timestamp` is UTC-adjusted.
  [DuckDBTypeId.TIMESTAMP]: { sql: 'TIMESTAMPTZ', delta: 'timestamp' },
  [DuckDBTypeId.TIMESTAMP_S]: { sql: 'TIMESTAMPTZ', delta: 'timestamp' },
  [DuckDBTypeId.TIMESTAMP_MS]: { sql: 'TIMESTAMPTZ', delta: 'timestamp' },
  [DuckDBTypeId.TIMESTAMP_NS]: { sql: 'TIMESTAMPTZ', delta: 'timestamp' },
  [DuckDBTypeId.UUID]: { sql: 'VARCHAR', delta: 'string' },
  [DuckDBTypeId.ENUM]: { sql: 'VARCHAR', delta: 'string' },
  [DuckDBTypeId.TIME]: { sql: 'VARCHAR', delta: 'string' },
  [DuckDBTypeId.INTERVAL]: { sql: 'VARCHAR', delta: 'string' },
};

function nestedDeltaType(type: DuckDBType, column: string): DeltaType {
  const direct = DIRECT[type.typeId];
  if (direct) return direct;
  switch (type.typeId) {
    case DuckDBTypeId.DECIMAL: {
      const { width, scale } = type as unknown as { width: number; scale: number };
      return `decimal(${width},${scale})`;
    }
    case DuckDBTypeId.LIST: {
      const { valueType } = type as unknown as { valueType: DuckDBType };
      return { type: 'array', elementType: nestedDeltaType(valueType, column), containsNull: true };
    }
    case DuckDBTypeId.STRUCT: {
      const { entryNames, entryTypes } = type as unknown as {
        entryNames: string[];
        entryTypes: DuckDBType[];
      };
      return {
        type: 'struct',
        fields: entryNames.map((name, index) => ({
          name,
          type: nestedDeltaType(entryTypes[index] as DuckDBType, `${column}.${name}`),
          nullable: true,
          metadata: {},
        })),
      };
    }
    case DuckDBTypeId.MAP: {
      const { keyType, valueType } = type as unknown as { keyType: DuckDBType; valueType: DuckDBType };
      return {
        type: 'map',
        keyType: nestedDeltaType(keyType, column),
        valueType: nestedDeltaType(valueType, column),
        valueContainsNull: true,
      };
    }
    default:
      throw new ConfigError(`column ${column} has type ${type.toString()}, which a Delta table cannot hold`, {
        context: { field: column },
        hint: 'cast it in the table SQL to VARCHAR, BIGINT, DOUBLE, DATE or TIMESTAMPTZ',
      });
  }
}

/** The Delta type a column of this DuckDB type is written as, or null when none can hold it. */
export function deltaTypeOf(type: DuckDBType, column: string): DeltaType | null {
  try {
    return writableColumn(column, type).deltaType;
  } catch (error) {
    if (error instanceof ConfigError) return null;
    throw error;
  }
}

export function writableColumn(name: string, type: DuckDBType): WritableColumn {
  const cast = CASTS[type.typeId];
  if (cast) return { name, deltaType: cast.delta, expression: `CAST(${quoteIdent(name)} AS ${cast.sql})` };
  return { name, deltaType: nestedDeltaType(type, name), expression: quoteIdent(name) };
}
