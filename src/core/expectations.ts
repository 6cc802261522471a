import { z } from 'zod';
import type { SqlContext } from './pipeline.js';

/**
 * Expectations: declared checks on a table's new version, each with a consequence. `warn` keeps the rows and
 * counts them; `quarantine` moves failing rows to the table's quarantine under the expectation's name; `fail`
 * keeps the new version from being published. Row checks say what each row must satisfy; table checks (row
 * count, freshness) judge the version as a whole and can only warn or fail.
 */
export type ExpectationAction = 'warn' | 'quarantine' | 'fail';

interface Base {
  /** lower_snake_case; names the check in results, quarantine reasons and errors. */
  name: string;
  action: ExpectationAction;
  description?: string;
}

export type RowExpectation = Base &
  (
    | { type: 'not_null'; column: string }
    | { type: 'unique'; columns: string[] }
    | { type: 'accepted_values'; column: string; values: (string | number | boolean)[] }
    | { type: 'between'; column: string; min?: number | string; max?: number | string }
    | { type: 'regex'; column: string; pattern: string }
    | {
        type: 'references';
        column: string;
        table: { layer: 'bronze' | 'silver' | 'gold'; table: string };
        refColumn: string;
      }
    /** A condition every row must meet, in SQL; may reference other tables with `ref()`. */
    | { type: 'sql'; predicate: (context: SqlContext) => string }
  );

export type TableExpectation = Base &
  (
    | { type: 'row_count'; min?: number; max?: number }
    /** The newest value of a timestamp or date column is at most `maxAge` old (e.g. `36h`). */
    | { type: 'freshness'; column: string; maxAge: string }
  );

export type Expectation = RowExpectation | TableExpectation;

export const ROW_TYPES: ReadonlySet<Expectation['type']> = new Set([
  'not_null',
  'unique',
  'accepted_values',
  'between',
  'regex',
  'references',
  'sql',
]);

export function isRowExpectation(expectation: Expectation): expectation is RowExpectation {
  return ROW_TYPES.has(expectation.type);
}

const identifier = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'use lower_snake_case: letters, digits and _');
const action = z.enum(['warn', 'quarantine', 'fail']);
const column = z.string().min(1);
const bound = z.union([z.number(), z.string().min(1)]);
const base = { name: identifier, action, description: z.string().optional() };
const tableAction = z.enum(['warn', 'fail'], { message: 'a table check can only warn or fail' });

export const expectationSchema = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('not_null'), column }),
  z.object({ ...base, type: z.literal('unique'), columns: z.array(column).min(1) }),
  z.object({
    ...base,
    type: z.literal('accepted_values'),
    column,
    values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
  }),
  z
    .object({ ...base, type: z.literal('between'), column, min: bound.optional(), max: bound.optional() })
    .refine((value) => value.min !== undefined || value.max !== undefined, 'give min, max or both'),
  z.object({ ...base, type: z.literal('regex'), column, pattern: z.string().min(1) }),
  z.object({
    ...base,
    type: z.literal('references'),
    column,
    table: z.object({ layer: z.enum(['bronze', 'silver', 'gold']), table: identifier }),
    refColumn: column,
  }),
  z.object({
    ...base,
    type: z.literal('sql'),
    predicate: z.custom<(context: SqlContext) => string>(
      (value) => typeof value === 'function',
      'a function',
    ),
  }),
  z
    .object({
      ...base,
      action: tableAction,
      type: z.literal('row_count'),
      min: z.number().int().min(0).optional(),
      max: z.number().int().min(0).optional(),
    })
    .refine((value) => value.min !== undefined || value.max !== undefined, 'give min, max or both'),
  z.object({
    ...base,
    action: tableAction,
    type: z.literal('freshness'),
    column,
    maxAge: z.string().regex(/^\d+\s*(s|m|h|d)$/, 'a duration such as 90s, 30m, 6h or 1d'),
  }),
]);

/** What a check found on one table version. */
export interface ExpectationResult {
  name: string;
  type: Expectation['type'];
  action: ExpectationAction;
  passed: boolean;
  /** Rows that failed a row check (0 for a table check). */
  failingRows: number;
  /** For table checks: what was measured (row count, age in hours). */
  observed?: number | string | null;
  /** A few failing rows, as JSON objects. */
  samples: Record<string, unknown>[];
}
