/**
 * SIREN/SIRET arithmetic. Real identifiers pass the Luhn check (both the 9-digit SIREN and the
 * 14-digit SIRET), so downstream quality rules can tell real ones from typos; the generator keeps
 * that property except where it adds a wrong one on purpose.
 */

/** Standard Luhn over all digits: from the right, every second digit is doubled. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  return luhnSum(digits, false) % 10 === 0;
}

/** The digit to append to `payload` so the whole string passes Luhn. */
export function luhnCheckDigit(payload: string): string {
  return String((10 - (luhnSum(payload, true) % 10)) % 10);
}

function luhnSum(digits: string, doubleRightmost: boolean): number {
  let sum = 0;
  let double = doubleRightmost;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum;
}

/** A Luhn-valid SIREN from its first 8 digits. */
export function makeSiren(first8: string): string {
  return first8 + luhnCheckDigit(first8);
}

/** A Luhn-valid SIRET: 9-digit SIREN + 4 NIC digits + the check digit that completes the NIC. */
export function makeSiret(siren: string, nic4: string): string {
  if (!/^\d{9}$/.test(siren) || !/^\d{4}$/.test(nic4)) {
    throw new RangeError(`makeSiret needs a 9-digit SIREN and 4 digits, got "${siren}", "${nic4}"`);
  }
  const payload = siren + nic4;
  return payload + luhnCheckDigit(payload);
}

/** The same SIRET with a wrong last digit, for the "SIRET failing Luhn" mess. */
export function breakLuhn(siret: string): string {
  const last = siret.charCodeAt(siret.length - 1) - 48;
  return siret.slice(0, -1) + String((last + 3) % 10);
}
