import { ConfigError } from './errors.js';
import type { ParamDefinition, ParamValue } from './pipeline.js';

/**
 * Run parameters: what a trigger gives is checked against the pipeline's declarations before a run is created.
 * Values typed on a command line arrive as strings and are converted to the declared type here.
 */

function invalid(name: string, message: string): ConfigError {
  return new ConfigError(`parameter ${name}: ${message}`, {
    context: { field: `params.${name}` },
    hint: 'see the pipeline definition for its declared parameters',
  });
}

function convert(name: string, definition: ParamDefinition, value: unknown): ParamValue {
  switch (definition.type) {
    case 'string':
      if (typeof value !== 'string') throw invalid(name, `expected a string, got ${JSON.stringify(value)}`);
      return value;
    case 'number':
    case 'integer': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isFinite(number)) {
        throw invalid(name, `expected a number, got ${JSON.stringify(value)}`);
      }
      if (definition.type === 'integer' && !Number.isInteger(number)) {
        throw invalid(name, `expected an integer, got ${JSON.stringify(value)}`);
      }
      return number;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw invalid(name, `expected true or false, got ${JSON.stringify(value)}`);
    case 'date':
      if (
        typeof value !== 'string' ||
        !/^\d{4}-\d{2}-\d{2}$/.test(value) ||
        Number.isNaN(Date.parse(`${value}T00:00:00Z`))
      ) {
        throw invalid(name, `expected a date as YYYY-MM-DD, got ${JSON.stringify(value)}`);
      }
      return value;
  }
}

function checked(name: string, definition: ParamDefinition, value: unknown): ParamValue {
  const converted = convert(name, definition, value);
  if (definition.choices && !definition.choices.includes(converted as string | number)) {
    throw invalid(
      name,
      `${JSON.stringify(converted)} is not one of ${definition.choices.map((choice) => JSON.stringify(choice)).join(', ')}`,
    );
  }
  return converted;
}

/** A declaration's default must itself be valid. */
export function checkParamDefault(name: string, definition: ParamDefinition): void {
  if (definition.default !== undefined) checked(name, definition, definition.default);
}

/**
 * The run's parameters: the given values converted and checked, defaults filled in. Unknown names and missing
 * required values are errors naming the parameter.
 */
export function resolveParams(
  declared: Readonly<Record<string, ParamDefinition>> | undefined,
  given: Readonly<Record<string, unknown>>,
): Record<string, ParamValue> {
  const definitions = declared ?? {};
  // Own keys only: `name in definitions` would take `toString` or `__proto__` for declared parameters.
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(definitions, name)) {
      const known = Object.keys(definitions);
      throw invalid(
        name,
        `the pipeline declares no such parameter (${known.length ? `declared: ${known.join(', ')}` : 'it declares none'})`,
      );
    }
  }
  const params = new Map<string, ParamValue>();
  for (const [name, definition] of Object.entries(definitions)) {
    const value = (Object.hasOwn(given, name) ? given[name] : undefined) ?? definition.default;
    if (value === undefined) {
      if (definition.required) throw invalid(name, 'a value is required');
      continue;
    }
    params.set(name, checked(name, definition, value));
  }
  return Object.fromEntries(params);
}

/**
 * `key=value` pairs from a command line → an object of strings; a pair without `=` names itself. Every name
 * becomes an own key (`__proto__=x` too, never the object's prototype), so `resolveParams` sees and refuses it.
 */
export function parseParamPairs(pairs: readonly string[]): Record<string, string> {
  const params = new Map<string, string>();
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) {
      throw new ConfigError(`--param ${JSON.stringify(pair)} is not NAME=VALUE`, {
        context: { field: '--param' },
      });
    }
    params.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return Object.fromEntries(params);
}
