/**
 * Text damage seen in real open-data exports. Each helper always leaves a visible trace, so a
 * record picked for a kind of mess really carries it (tests look for it in the output).
 */
import type { Rng } from './random.js';

/** UTF-8 bytes read back as Latin-1: "Départemental" becomes "DÃ©partemental". */
export function mojibake(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** HTML-escaped text as left by web forms: "&amp;" and "&#039;". */
export function htmlEntities(text: string): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/'/g, '&#039;');
  if (escaped !== text) return escaped;
  return text.includes(' ET ') ? text.replace(' ET ', ' &amp; ') : `${text} &amp; CIE`;
}

/** A line break typed into a single-line field. */
export function embeddedNewline(text: string): string {
  const middle = text.indexOf(' ', Math.floor(text.length / 2));
  return middle < 0 ? `${text}\n` : `${text.slice(0, middle)}\n${text.slice(middle + 1)}`;
}

/** Leading, trailing or doubled spaces, the most common stray whitespace. */
export function straySpaces(rng: Rng, text: string): string {
  const r = rng.next();
  if (r < 0.6) return `${text} `;
  if (r < 0.75) return ` ${text}`;
  const space = text.indexOf(' ');
  return space < 0 ? `${text}  ` : `${text.slice(0, space)}  ${text.slice(space + 1)}`;
}

/** "30361573600103" typed as "303 615 736 00103". */
export function spacedSiret(siret: string): string {
  return `${siret.slice(0, 3)} ${siret.slice(3, 6)} ${siret.slice(6, 9)} ${siret.slice(9)}`;
}
