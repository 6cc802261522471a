import { DataType, type Field, type List, type Map_, type Struct } from 'apache-arrow';
import type { DeltaType } from '../../table/delta-protocol.js';

/**
 * The Delta type of a column Spark returned as Arrow (as Spark maps its own types to Arrow), or null when Delta has
 * none (void, intervals). Spark's types are Delta's, so this is a renaming, not a conversion.
 */
export function deltaTypeOfArrow(type: DataType): DeltaType | null {
  if (DataType.isBool(type)) return 'boolean';
  if (DataType.isInt(type))
    return ({ 8: 'byte', 16: 'short', 32: 'integer', 64: 'long' } as const)[type.bitWidth];
  if (DataType.isFloat(type)) return type.precision === 1 ? 'float' : 'double';
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return 'string';
  if (DataType.isBinary(type) || DataType.isLargeBinary(type)) return 'binary';
  if (DataType.isDecimal(type)) return `decimal(${type.precision},${type.scale})`;
  if (DataType.isDate(type)) return 'date';
  // TIMESTAMP_NTZ needs a table feature (writer version 7) medallion's tables do not declare.
  if (DataType.isTimestamp(type)) return type.timezone ? 'timestamp' : null;
  if (DataType.isList(type)) {
    const child = (type as List).children[0];
    const element = child ? deltaTypeOfArrow(child.type) : null;
    return element && { type: 'array', elementType: element, containsNull: true };
  }
  if (DataType.isStruct(type)) {
    const fields = (type as Struct).children.map((field: Field) => ({
      field,
      type: deltaTypeOfArrow(field.type),
    }));
    if (fields.some((entry) => entry.type === null)) return null;
    return {
      type: 'struct',
      fields: fields.map(({ field, type: fieldType }) => ({
        name: field.name,
        type: fieldType as DeltaType,
        nullable: true,
        metadata: {},
      })),
    };
  }
  if (DataType.isMap(type)) {
    const [key, value] = ((type as Map_).children[0]?.type as Struct | undefined)?.children ?? [];
    const keyType = key && deltaTypeOfArrow(key.type);
    const valueType = value && deltaTypeOfArrow(value.type);
    return keyType && valueType ? { type: 'map', keyType, valueType, valueContainsNull: true } : null;
  }
  return null;
}
