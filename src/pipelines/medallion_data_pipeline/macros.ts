/** SQL helpers shared by the pipeline's tables. */
export const macros = [
  // DuckDB's trim() keeps tabs and line breaks; sources have both around names.
  `CREATE OR REPLACE TEMP MACRO trim_text(value) AS trim(value, ' ' || chr(9) || chr(10) || chr(13) || chr(160))`,
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
  `CREATE OR REPLACE TEMP MACRO ordered_avg(amount) AS avg(amount ORDER BY amount)`,
];
