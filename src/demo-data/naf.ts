/**
 * A synthetic NAF rév. 2 list. The section/division skeleton is the public one, so codes look and
 * sort like real ones; groups, classes, sub-classes and their labels are drawn from the seed. A few
 * codes that establishments use a lot are always present, so most activity codes join.
 */
import { csvField } from './csv.js';
import { NAF_SECTIONS, type NafSection } from './naf-sections.js';
import { Rng, at, hash32 } from './random.js';

export const NAF_FILE = 'int_courts_naf_rev_2.csv';

/** Byte-exact header of the INSEE file: leading space, double space, trailing space. */
export const NAF_HEADER = 'Code; Intitulés de la  NAF rév. 2, version finale ';

/** Codes every generated list holds, with labels written for this generator. */
const ANCHORS: Readonly<Record<string, string>> = {
  '10.71C': 'Boulangerie et boulangerie-pâtisserie',
  '42.99Z': "Construction d'autres ouvrages de génie civil n.c.a.",
  '43.21A': "Travaux d'installation électrique dans tous locaux",
  '49.39A': 'Transports routiers réguliers de voyageurs',
  '62.01Z': 'Programmation informatique',
  '68.20A': 'Location de logements',
  '71.12B': 'Ingénierie ; études techniques',
  '81.10Z': 'Activités combinées de soutien lié aux bâtiments',
  '84.11Z': 'Administration publique générale',
  '85.20Z': 'Enseignement primaire',
  '86.10Z': 'Activités hospitalières',
  '88.99B': 'Action sociale sans hébergement n.c.a.',
};

/** Establishment activity weights: public bodies dominate SIRENE extracts of buyers and suppliers. */
export const COMMON_ACTIVITIES: readonly (readonly [string, number])[] = [
  ['81.10Z', 19],
  ['84.11Z', 13],
  ['85.20Z', 9],
  ['42.99Z', 6],
  ['88.99B', 5],
  ['68.20A', 2],
  ['62.01Z', 2],
  ['86.10Z', 1],
  ['43.21A', 1],
  ['49.39A', 1],
  ['71.12B', 1],
  ['10.71C', 1],
];

/** Old-nomenclature codes (NAF rév. 1, NAP) that appear in SIRENE but never in a rév. 2 list. */
export const LEGACY_ACTIVITIES: readonly (readonly [string, string])[] = [
  ['74.1A', 'NAFRev1'],
  ['55.3A', 'NAFRev1'],
  ['80.1Z', 'NAFRev1'],
  ['93.0N', 'NAFRev1'],
  ['00.97', 'NAP'],
  ['67.09', 'NAP'],
];

export interface NafList {
  /** CSV lines (code;label, label quoted when needed), without line terminators. */
  lines: string[];
  /** Every 6-character sub-class code (e.g. "62.01Z"), in file order. */
  subclasses: string[];
}

const SALT_NAF = 0x4e4146;
const VARIANTS = ['hors magasin', 'en magasin spécialisé', 'industriel', 'artisanal', 'de gros', 'de détail'];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function label(rng: Rng, section: NafSection): string {
  const main = rng.pick(section.activities);
  // About one label in forty joins two activities with " ; " as INSEE does, which forces quoting.
  if (rng.chance(0.025)) return `${main} ; ${rng.pick(section.activities).toLowerCase()}`;
  return main;
}

/** Digits 1..count plus any forced ones, sorted. */
function digitSet(count: number, forced: Iterable<number>): number[] {
  const set = new Set<number>(forced);
  for (let d = 1; d <= count; d++) set.add(d);
  return [...set].sort((a, b) => a - b);
}

export function buildNafList(seed: number): NafList {
  const rng = new Rng(hash32(seed, SALT_NAF, 0));
  const anchorCodes = Object.keys(ANCHORS);
  const lines: string[] = [];
  const subclasses: string[] = [];
  const push = (code: string, text: string): void => {
    lines.push(`${code};${csvField(text, ';')}`);
  };

  for (const section of NAF_SECTIONS) {
    push(`SECTION ${section.letter}`, section.title);
    for (let division = section.divisions[0]; division <= section.divisions[1]; division++) {
      const dd = pad2(division);
      const anchors = anchorCodes.filter((code) => code.startsWith(`${dd}.`));
      push(dd, label(rng, section));
      const groups = digitSet(
        rng.between(1, 4),
        anchors.map((code) => Number(code[3])),
      );
      for (const g of groups) {
        const groupCode = `${dd}.${g}`;
        const groupLabel = label(rng, section);
        push(groupCode, groupLabel);
        const inGroup = anchors.filter((code) => code.startsWith(groupCode));
        const classCount = rng.chance(0.3) ? 1 : rng.between(2, 4);
        const classDigits =
          classCount === 1 && inGroup.every((code) => code[4] === '0')
            ? [0]
            : digitSet(
                classCount,
                inGroup.map((code) => Number(code[4])),
              );
        for (const k of classDigits) {
          const classCode = `${groupCode}${k}`;
          const anchor = anchorCodes.find((code) => code.startsWith(classCode));
          const classLabel =
            (anchor === undefined ? undefined : ANCHORS[anchor]) ??
            (classCount === 1 ? groupLabel : label(rng, section));
          push(classCode, classLabel);
          const last = anchor?.[5] ?? (rng.chance(0.8) ? 'Z' : rng.pick(['B', 'C']));
          const letters = last === 'Z' ? ['Z'] : ['A', 'B', 'C'].slice(0, 'ABC'.indexOf(last) + 1);
          for (const letter of letters) {
            const code = `${classCode}${letter}`;
            const text =
              code === anchor || letter === 'Z' ? classLabel : `${classLabel} (${rng.pick(VARIANTS)})`;
            push(code, text);
            subclasses.push(code);
          }
        }
      }
    }
  }
  addLineBreakLabels(rng, lines);
  return { lines, subclasses };
}

/**
 * INSEE's own file has two labels with a stray line break before the closing quote; keep exactly
 * two so readers must handle quoted multi-line fields.
 */
function addLineBreakLabels(rng: Rng, lines: string[]): void {
  const candidates: number[] = [];
  lines.forEach((line, i) => {
    if (/^\d\d\.\d\d[A-Z];[^"]/.test(line)) candidates.push(i);
  });
  for (let n = 0; n < 2; n++) {
    const i = at(candidates.splice(rng.int(candidates.length), 1), 0);
    const line = at(lines, i);
    const sep = line.indexOf(';');
    const suffix = n === 0 ? ' \n' : '\n';
    lines[i] = `${line.slice(0, sep + 1)}${csvField(line.slice(sep + 1) + suffix, ';')}`;
  }
}
