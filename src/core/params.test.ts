import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { parseParamPairs, resolveParams } from './params.js';
import type { ParamDefinition } from './pipeline.js';

const declared: Record<string, ParamDefinition> = {
  region: { type: 'string', default: 'eu' },
  batch: { type: 'integer' },
};

const prototypeKeys = ['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf'];

describe('run parameters', () => {
  it('converts the given values and fills in defaults', () => {
    expect(resolveParams(declared, { batch: '3' })).toEqual({ region: 'eu', batch: 3 });
  });

  it.each(prototypeKeys)('refuses %s like any undeclared name', (name) => {
    const given = parseParamPairs([`${name}=1`]);
    expect(() => resolveParams(declared, given)).toThrow(ConfigError);
    expect(() => resolveParams(declared, given)).toThrow(
      `parameter ${name}: the pipeline declares no such parameter (declared: region, batch)`,
    );
  });

  it('refuses a prototype key when the pipeline declares no parameter at all', () => {
    expect(() => resolveParams(undefined, parseParamPairs(['toString=1']))).toThrow(
      'parameter toString: the pipeline declares no such parameter (it declares none)',
    );
  });

  it('does not take an inherited property for a given value of a parameter named like one', () => {
    const named = { constructor: { type: 'string', default: 'declared default' } } as const;
    expect(resolveParams(named, {})).toEqual({ constructor: 'declared default' });
  });

  it('keeps __proto__ given on a command line as an own key, never as the prototype', () => {
    const given = parseParamPairs(['__proto__=x', 'region=us']);
    expect(Object.getPrototypeOf(given)).toBe(Object.prototype);
    expect(Object.keys(given)).toEqual(['__proto__', 'region']);
    expect(given).toMatchObject({ region: 'us' });
  });

  it('refuses a pair without a name or without =', () => {
    expect(() => parseParamPairs(['region'])).toThrow('--param "region" is not NAME=VALUE');
    expect(() => parseParamPairs(['=eu'])).toThrow('--param "=eu" is not NAME=VALUE');
  });
});
