import {
  DataType,
  tableFromIPC,
  type Decimal,
  type Field,
  type List,
  type Map_,
  type Struct,
  type Timestamp,
  type Vector,
} from 'apache-arrow';
import type { DeltaType } from '../../table/delta-protocol.js';
import { deltaTypeOfArrow } from './delta-types.js';

/** A value as medallion's engines return it: JSON-safe (no bigint, no Date). */
export type SqlValue = string | number | boolean | null | SqlValue[] | { [key: string]: SqlValue };

export interface SqlColumn {
  name: string;
  /** Spark's SQL type name, e.g. bigint, decimal(10,2), array<string>, struct<a:int,b:string>. */
  type: string;
  /** The Delta type the column is written as; null when Delta has none (void, TIMESTAMP_NTZ, intervals). */
  deltaType: DeltaType | null;
}

/** How 64-bit integers come back: numbers when exact (else text), or always text (the engine port's way). */
export type Int64As = 'number' | 'string';

export interface SqlResult {
  columns: SqlColumn[];
  rows: Record<string, SqlValue>[];
}

/**
 * Decodes the Arrow IPC streams of a result (one per ExecutePlan arrow_batch) into rows of JSON-safe values:
 * 64-bit integers as numbers when exact, else decimal strings; decimals as exact decimal strings; dates as
 * YYYY-MM-DD; timestamps as ISO 8601 in UTC with Spark's microseconds; lists, structs and maps as arrays and
 * objects; binary as base64.
 */
export function decodeArrowBatches(batches: readonly Uint8Array[], int64As: Int64As = 'number'): SqlResult {
  let columns: SqlColumn[] | undefined;
  const rows: Record<string, SqlValue>[] = [];
  for (const batch of batches) {
    const table = tableFromIPC(batch);
    const fields = table.schema.fields;
    columns ??= fields.map((field) => ({
      name: field.name,
      type: sparkTypeName(field.type),
      deltaType: deltaTypeOfArrow(field.type),
    }));
    const vectors = fields.map((_, index) => table.getChildAt(index));
    for (let row = 0; row < table.numRows; row += 1) {
      const record: Record<string, SqlValue> = {};
      fields.forEach((field, index) => {
        const vector = vectors[index];
        record[field.name] = vector ? valueAt(vector, row, int64As) : null;
      });
      rows.push(record);
    }
  }
  return { columns: columns ?? [], rows };
}

function valueAt(vector: Vector, index: number, int64As: Int64As): SqlValue {
  const type: DataType = vector.type;
  // A NULL literal's column (Spark's void) has no validity bitmap: every row reads as valid.
  if (DataType.isNull(type) || !vector.isValid(index)) return null;
  if (DataType.isInt(type) && type.bitWidth === 64)
    return int64Value(rawValue(vector, index) as bigint, int64As);
  if (DataType.isDecimal(type)) return decimalValue(vector as Vector<Decimal>, index);
  if (DataType.isDate(type)) return new Date(vector.get(index) as number).toISOString().slice(0, 10);
  if (DataType.isTimestamp(type)) return timestampValue(vector as Vector<Timestamp>, index);
  if (DataType.isList(type) || DataType.isFixedSizeList(type)) {
    const items = vector.get(index) as Vector;
    return Array.from({ length: items.length }, (_, item) => valueAt(items, item, int64As));
  }
  if (DataType.isStruct(type)) {
    const struct = vector as Vector<Struct>;
    const object: { [key: string]: SqlValue } = {};
    struct.type.children.forEach((field: Field, child) => {
      const values = struct.getChildAt(child);
      object[field.name] = values ? valueAt(values, index, int64As) : null;
    });
    return object;
  }
  if (DataType.isMap(type)) return mapValue(vector as Vector<Map_>, index, int64As);
  if (DataType.isBinary(type) || DataType.isLargeBinary(type) || DataType.isFixedSizeBinary(type)) {
    return Buffer.from(vector.get(index) as Uint8Array).toString('base64');
  }
  const value: unknown = vector.get(index);
  if (typeof value === 'bigint') return int64Value(value, int64As);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  // Intervals and other rare types: their string form rather than a value JSON cannot carry.
  return String(value);
}

function int64Value(value: bigint, int64As: Int64As): number | string {
  return int64As === 'number' &&
    value >= BigInt(Number.MIN_SAFE_INTEGER) &&
    value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}

/** The stored value of a fixed-width vector at `index` (arrow's `get` turns timestamps into lossy ms floats). */
function rawValue(vector: Vector, index: number): unknown {
  let offset = index;
  for (const data of vector.data) {
    if (offset < data.length) return (data.values as ArrayLike<unknown>)[offset];
    offset -= data.length;
  }
  throw new RangeError(`row ${index} is past the end of a ${vector.length}-row Arrow vector`);
}

/** Spark sends timestamps as microseconds since the epoch (UTC; the zone is the session's display zone). */
function timestampValue(vector: Vector<Timestamp>, index: number): string {
  const raw = BigInt(rawValue(vector, index) as bigint);
  const perSecond = [1n, 1_000n, 1_000_000n, 1_000_000_000n][vector.type.unit] ?? 1_000_000n;
  const floorDiv = (a: bigint, b: bigint) => (a >= 0n ? a / b : -((-a + b - 1n) / b));
  const seconds = floorDiv(raw, perSecond);
  const fraction = raw - seconds * perSecond;
  const iso = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  const digits = perSecond.toString().length - 1;
  const fractionText =
    digits === 0 ? '' : `.${fraction.toString().padStart(digits, '0')}`.replace(/\.?0+$/, '');
  return `${iso}${fractionText}Z`;
}

/** A decimal as an exact decimal string (Spark's decimals go up to 38 digits: no JS number holds them). */
function decimalValue(vector: Vector<Decimal>, index: number): string {
  const { scale, bitWidth } = vector.type;
  const words = bitWidth / 32;
  let remaining = index;
  for (const data of vector.data) {
    if (remaining < data.length) {
      const limbs = (data.values as Uint32Array).subarray(remaining * words, (remaining + 1) * words);
      let unscaled = 0n;
      for (let word = words - 1; word >= 0; word -= 1)
        unscaled = (unscaled << 32n) | BigInt(limbs[word] ?? 0);
      // Two's complement: the top bit set means a negative number.
      if (unscaled >> BigInt(bitWidth - 1)) unscaled -= 1n << BigInt(bitWidth);
      return scaleDecimal(unscaled, scale);
    }
    remaining -= data.length;
  }
  throw new RangeError(`row ${index} is past the end of a ${vector.length}-row Arrow vector`);
}

export function scaleDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** A map as an object when its keys are strings or numbers (Spark's usual), else as [key, value] pairs. */
function mapValue(vector: Vector<Map_>, index: number, int64As: Int64As): SqlValue {
  // arrow's MapRow iterates [key, value] pairs.
  const entries = vector.get(index) as unknown as Iterable<[unknown, unknown]> | null;
  const pairs: [SqlValue, SqlValue][] = [];
  for (const [key, value] of entries ?? []) pairs.push([plain(key, int64As), plain(value, int64As)]);
  if (pairs.every(([key]) => typeof key === 'string' || typeof key === 'number')) {
    return Object.fromEntries(pairs.map(([key, value]) => [String(key), value]));
  }
  return pairs;
}

/** A value arrow's `get` returned inside a map (no vector at hand for the typed readers). */
function plain(value: unknown, int64As: Int64As): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return int64Value(value, int64As);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return plain((value as { toJSON(): unknown }).toJSON(), int64As);
  }
  if (Array.isArray(value)) return value.map((item) => plain(item, int64As));
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, plain(v, int64As)]),
    );
  }
  return String(value);
}

/** Spark's SQL name for an Arrow type, as Spark maps its types to Arrow. */
export function sparkTypeName(type: DataType): string {
  if (DataType.isNull(type)) return 'void';
  if (DataType.isBool(type)) return 'boolean';
  if (DataType.isInt(type)) return { 8: 'tinyint', 16: 'smallint', 32: 'int', 64: 'bigint' }[type.bitWidth];
  if (DataType.isFloat(type)) return type.precision === 1 ? 'float' : 'double';
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return 'string';
  if (DataType.isBinary(type) || DataType.isLargeBinary(type)) return 'binary';
  if (DataType.isDecimal(type)) return `decimal(${type.precision},${type.scale})`;
  if (DataType.isDate(type)) return 'date';
  if (DataType.isTimestamp(type)) return type.timezone ? 'timestamp' : 'timestamp_ntz';
  if (DataType.isList(type)) return `array<${sparkTypeName((type as List).children[0]?.type ?? type)}>`;
  if (DataType.isStruct(type)) {
    return `struct<${type.children.map((field: Field) => `${field.name}:${sparkTypeName(field.type)}`).join(',')}>`;
  }
  if (DataType.isMap(type)) {
    const entry = type.children[0]?.type as Struct | undefined;
    const [key, value] = entry?.children ?? [];
    return `map<${key ? sparkTypeName(key.type) : '?'},${value ? sparkTypeName(value.type) : '?'}>`;
  }
  return String(type).toLowerCase();
}
