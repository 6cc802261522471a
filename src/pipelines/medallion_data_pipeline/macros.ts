import type { EngineKind, SqlContext } from '../../index.js';

/** The characters trim_text strips: DuckDB's and Spark's trim() keep tabs, line breaks and no-break spaces. */
const SPACES_DUCKDB = `' ' || chr(9) || chr(10) || chr(13) || chr(160)`;
const SPACES_SPARK = `concat(' ', char(9), char(10), char(13), char(160))`;

/** SQL helpers shared by the pipeline's tables, the same names and results on each engine. */
export const macros: Record<EngineKind, string[]> = {
  duckdb: [
    `CREATE OR REPLACE TEMP MACRO trim_text(value) AS trim(value, ${SPACES_DUCKDB})`,
    // Trimmed text, NULL when empty or SIRENE's "[ND]" (not disclosed).
    `CREATE OR REPLACE TEMP MACRO clean_text(value) AS nullif(nullif(trim_text(value), ''), '[ND]')`,
    // A calendar date from the first 10 characters, whatever offset follows; NULL when not a date.
    `CREATE OR REPLACE TEMP MACRO day_of(value) AS try_strptime(left(trim_text(value), 10), '%Y-%m-%d')::DATE`,
    `CREATE OR REPLACE TEMP MACRO digit_at(s, i) AS CAST(substr(s, i::BIGINT, 1) AS INTEGER)`,
    // Luhn over the 14 digits: every second digit from the right is doubled (digits of the product summed).
    `CREATE OR REPLACE TEMP MACRO luhn_valid(s) AS list_sum(list_transform(range(1, 15), lambda i:
       CASE WHEN (14 - i) % 2 = 1 THEN (2 * digit_at(s, i)) % 10 + (2 * digit_at(s, i)) // 10 ELSE digit_at(s, i) END)) % 10 = 0`,
    // La Poste's establishments (SIREN 356000000) break Luhn: their digit sum is a multiple of 5 instead. Its head
    // office, 35600000000048, follows Luhn like every other SIRET (as INSEE and python-stdnum check them).
    `CREATE OR REPLACE TEMP MACRO siret_valid(s) AS CASE
       WHEN left(s, 9) = '356000000' AND s <> '35600000000048'
         THEN list_sum(list_transform(range(1, 15), lambda i: digit_at(s, i))) % 5 = 0
       ELSE luhn_valid(s) END`,
    // A 1–14 digit identifier left-padded to a 14-digit SIRET, or NULL when it is not a valid one.
    `CREATE OR REPLACE TEMP MACRO as_siret(id) AS CASE
       WHEN regexp_full_match(id, '[0-9]{1,14}') AND siret_valid(lpad(id, 14, '0')) THEN lpad(id, 14, '0') END`,
    `CREATE OR REPLACE TEMP MACRO as_amount(value) AS CASE
       WHEN isfinite(try_cast(trim_text(value) AS DOUBLE)) THEN try_cast(trim_text(value) AS DOUBLE) END`,
    `CREATE OR REPLACE TEMP MACRO as_integer(value) AS coalesce(try_cast(trim_text(value) AS INTEGER),
       CASE WHEN try_cast(trim_text(value) AS DOUBLE) = floor(try_cast(trim_text(value) AS DOUBLE))
         THEN try_cast(try_cast(trim_text(value) AS DOUBLE) AS INTEGER) END)`,
    // Amounts are added in a fixed order: a DOUBLE sum otherwise depends, in its last digit, on the
    // order DuckDB's threads add rows in, and reruns would not agree to the cent.
    `CREATE OR REPLACE TEMP MACRO ordered_sum(amount) AS sum(amount ORDER BY amount)`,
    // The ordered sum over the count, as on Spark: a query asking for both sorts each group once, not twice.
    `CREATE OR REPLACE TEMP MACRO ordered_avg(amount) AS sum(amount ORDER BY amount) / count(amount)`,
  ],
  // Spark's SQL functions: scalar only, and not callable inside a lambda (tables inline them there, and
  // spell the ordered sums out: see orderedSum).
  spark: [
    `CREATE OR REPLACE TEMPORARY FUNCTION trim_text(value STRING) RETURNS STRING
       RETURN trim(BOTH ${SPACES_SPARK} FROM value)`,
    `CREATE OR REPLACE TEMPORARY FUNCTION clean_text(value STRING) RETURNS STRING
       RETURN nullif(nullif(trim_text(value), ''), '[ND]')`,
    // One-digit months and days parse, as DuckDB's %m and %d read them.
    `CREATE OR REPLACE TEMPORARY FUNCTION day_of(value STRING) RETURNS DATE
       RETURN try_to_date(left(trim_text(value), 10), 'yyyy-M-d')`,
    `CREATE OR REPLACE TEMPORARY FUNCTION regexp_full_match(value STRING, pattern STRING) RETURNS BOOLEAN
       RETURN value RLIKE concat('^(?:', pattern, ')$')`,
    `CREATE OR REPLACE TEMPORARY FUNCTION luhn_valid(s STRING) RETURNS BOOLEAN
       RETURN aggregate(sequence(1, 14), CAST(0 AS BIGINT), (acc, i) -> acc + CASE WHEN (14 - i) % 2 = 1
         THEN (2 * ${sparkDigit('s', 'i')}) % 10 + (2 * ${sparkDigit('s', 'i')}) DIV 10
         ELSE ${sparkDigit('s', 'i')} END) % 10 = 0`,
    `CREATE OR REPLACE TEMPORARY FUNCTION siret_valid(s STRING) RETURNS BOOLEAN RETURN CASE
       WHEN left(s, 9) = '356000000' AND s <> '35600000000048'
         THEN aggregate(sequence(1, 14), CAST(0 AS BIGINT), (acc, i) -> acc + ${sparkDigit('s', 'i')}) % 5 = 0
       ELSE luhn_valid(s) END`,
    `CREATE OR REPLACE TEMPORARY FUNCTION as_siret(id STRING) RETURNS STRING RETURN CASE
       WHEN regexp_full_match(id, '[0-9]{1,14}') AND siret_valid(lpad(id, 14, '0')) THEN lpad(id, 14, '0') END`,
    `CREATE OR REPLACE TEMPORARY FUNCTION as_amount(value STRING) RETURNS DOUBLE RETURN CASE
       WHEN NOT isnan(try_cast(trim_text(value) AS DOUBLE))
         AND abs(try_cast(trim_text(value) AS DOUBLE)) <> double('Infinity')
       THEN try_cast(trim_text(value) AS DOUBLE) END`,
    `CREATE OR REPLACE TEMPORARY FUNCTION as_integer(value STRING) RETURNS INT
       RETURN coalesce(try_cast(trim_text(value) AS INT),
         CASE WHEN try_cast(trim_text(value) AS DOUBLE) = floor(try_cast(trim_text(value) AS DOUBLE))
           THEN try_cast(try_cast(trim_text(value) AS DOUBLE) AS INT) END)`,
  ],
};

function sparkDigit(s: string, i: string): string {
  return `CAST(substr(${s}, ${i}, 1) AS INT)`;
}

/**
 * The sum of amounts added in ascending order (NULL when there is none), so that every engine and every rerun
 * agrees to the cent. Spark has no ordered aggregate: its amounts are collected, sorted and folded.
 */
export function orderedSum(context: Pick<SqlContext, 'engine'>, amount: string): string {
  if (context.engine === 'duckdb') return `ordered_sum(${amount})`;
  return `CASE WHEN count(${amount}) > 0 THEN aggregate(array_sort(collect_list(${amount})), CAST(0 AS DOUBLE), (acc, x) -> acc + x) END`;
}

/** The mean of amounts summed in ascending order (see orderedSum). */
export function orderedAvg(context: Pick<SqlContext, 'engine'>, amount: string): string {
  if (context.engine === 'duckdb') return `ordered_avg(${amount})`;
  return `${orderedSum(context, amount)} / count(${amount})`;
}

/** clean_text for a lambda's argument: Spark calls no SQL function inside a lambda, so its body is written out. */
export function cleanTextInLambda(context: Pick<SqlContext, 'engine'>, value: string): string {
  if (context.engine === 'duckdb') return `clean_text(${value})`;
  return `nullif(nullif(trim(BOTH ${SPACES_SPARK} FROM ${value}), ''), '[ND]')`;
}
