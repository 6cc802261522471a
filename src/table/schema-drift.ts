import type { DeltaStructType } from './delta-protocol.js';

/** Columns added, removed or retyped between two versions of a table's schema. */
export interface SchemaDrift {
  added: string[];
  removed: string[];
  retyped: string[];
}

export function schemaDrift(previous: DeltaStructType | undefined, current: DeltaStructType): SchemaDrift {
  const before = new Map(
    (previous?.fields ?? current.fields).map((field) => [field.name, JSON.stringify(field.type)]),
  );
  const after = new Map(current.fields.map((field) => [field.name, JSON.stringify(field.type)]));
  return {
    added: [...after.keys()].filter((name) => !before.has(name)),
    removed: [...before.keys()].filter((name) => !after.has(name)),
    retyped: [...after.keys()].filter((name) => before.has(name) && before.get(name) !== after.get(name)),
  };
}

export function hasDrift(drift: SchemaDrift): boolean {
  return drift.added.length + drift.removed.length + drift.retyped.length > 0;
}

export function describeDrift(drift: SchemaDrift): string {
  return `+[${drift.added.join(', ')}] -[${drift.removed.join(', ')}] ~[${drift.retyped.join(', ')}]`;
}
