import { describe, expect, it } from 'vitest';
import { breakLuhn, luhnCheckDigit, luhnValid, makeSiren, makeSiret } from './siret.js';
import { establishmentIdentity, isEstablishmentActive, siretForEstablishment } from './establishments.js';

describe('luhnValid', () => {
  it('accepts a real SIRET and rejects it with one digit changed', () => {
    expect(luhnValid('30361573600103')).toBe(true);
    expect(luhnValid('30361573600104')).toBe(false);
  });

  it('rejects text that is not only digits', () => {
    expect(luhnValid('303 615 736 00103')).toBe(false);
    expect(luhnValid('')).toBe(false);
  });
});

describe('makeSiret', () => {
  it('completes a SIREN and 4 NIC digits into a Luhn-valid 14-digit SIRET', () => {
    const siren = makeSiren('01234567');
    expect(luhnValid(siren)).toBe(true);
    const siret = makeSiret(siren, '0001');
    expect(siret).toMatch(/^0123456\d{7}$/);
    expect(siret.slice(0, 13)).toBe(`${siren}0001`);
    expect(luhnValid(siret)).toBe(true);
  });

  it('computes the check digit the Luhn test expects', () => {
    for (const payload of ['3036157360010', '0000000000000', '9999999999999']) {
      expect(luhnValid(payload + luhnCheckDigit(payload))).toBe(true);
    }
  });

  it('refuses malformed parts', () => {
    expect(() => makeSiret('12345678', '0001')).toThrow(RangeError);
    expect(() => makeSiret('123456789', '01')).toThrow(RangeError);
  });

  it('can be broken on purpose', () => {
    expect(luhnValid(breakLuhn('30361573600103'))).toBe(false);
  });
});

describe('siretForEstablishment', () => {
  const sirets = Array.from({ length: 50_000 }, (_, k) => siretForEstablishment(42, k));

  it('is a pure function of seed and index', () => {
    expect(siretForEstablishment(42, 123)).toBe(sirets[123]);
    expect(siretForEstablishment(43, 123)).not.toBe(sirets[123]);
    expect(establishmentIdentity(42, 123).active).toBe(isEstablishmentActive(42, 123));
  });

  it('never gives two establishments the same SIRET', () => {
    expect(new Set(sirets).size).toBe(sirets.length);
  });

  it('gives Luhn-valid SIRETs, about 7% starting with 0', () => {
    expect(sirets.every((s) => /^\d{14}$/.test(s) && luhnValid(s) && luhnValid(s.slice(0, 9)))).toBe(true);
    const zero = sirets.filter((s) => s.startsWith('0')).length / sirets.length;
    expect(zero).toBeGreaterThan(0.06);
    expect(zero).toBeLessThan(0.08);
  });

  it('groups secondary sites under their company SIREN', () => {
    const sirens = new Set(sirets.map((s) => s.slice(0, 9)));
    expect(sirens.size).toBeLessThan(sirets.length * 0.7);
    expect(sirens.size).toBeGreaterThan(sirets.length * 0.5);
  });
});
