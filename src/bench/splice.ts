/** Replacing one part of an existing BENCHMARKS.md, for the `--…-only` options that measure one thing again. */
import { table } from './report.js';

export interface SplicedPart {
  /** The section's `## ` heading line. */
  heading: string;
  /** The section's lines, heading included. */
  section: string[];
  /** How this part's rows of the targets table start, e.g. `| Scheduling`. */
  rowPrefix: string;
  targetRows: string[][];
}

/**
 * `markdown` with the section under `part.heading` replaced (or added before "How it is measured") and this part's
 * rows of the targets table replaced; the rest of the report is kept as it was.
 */
export function spliceSection(markdown: string, part: SplicedPart): string {
  const lines = markdown.split('\n');
  const start = lines.indexOf(part.heading);
  const sectionEnd = (from: number) => {
    const next = lines.findIndex((line, index) => index > from && line.startsWith('## '));
    return next < 0 ? lines.length : next;
  };
  if (start >= 0) lines.splice(start, sectionEnd(start) - start, ...part.section, '');
  else {
    const method = lines.indexOf('## How it is measured');
    lines.splice(method < 0 ? lines.length : method, 0, ...part.section, '');
  }
  const targets = lines.indexOf('## Targets');
  if (targets >= 0) {
    const kept: string[] = [];
    let index = targets + 1;
    while (index < lines.length && !lines[index]?.startsWith('|')) index += 1;
    const first = index;
    while (index < lines.length && lines[index]?.startsWith('|')) {
      const line = lines[index] ?? '';
      if (!line.startsWith(part.rowPrefix)) kept.push(line);
      index += 1;
    }
    const rendered = table(['x', 'y', 'z'], part.targetRows).split('\n').slice(2);
    lines.splice(first, index - first, ...kept, ...rendered);
  }
  return lines.join('\n');
}

/**
 * `markdown` with the caution lines of one part (`> ❌ **<prefix>: …**`) replaced by `problems`: the block before
 * "## Targets" is made when missing and removed when no line is left in it.
 */
export function spliceCautions(markdown: string, prefix: string, problems: readonly string[]): string {
  const lines = markdown.split('\n');
  const targets = lines.indexOf('## Targets');
  if (targets < 0) return markdown;
  let start = lines.indexOf('> [!CAUTION]');
  if (start < 0 || start > targets) {
    if (problems.length === 0) return markdown;
    lines.splice(targets, 0, '> [!CAUTION]', '');
    start = targets;
  }
  let end = start + 1;
  while (lines[end]?.startsWith('> ')) end += 1;
  const kept = lines.slice(start + 1, end).filter((line) => !line.startsWith(`> ❌ **${prefix}: `));
  const block = [...kept, ...problems.map((problem) => `> ❌ **${prefix}: ${problem}**`)];
  if (block.length === 0) lines.splice(start, end - start + (lines[end] === '' ? 1 : 0));
  else lines.splice(start + 1, end - start - 1, ...block);
  return lines.join('\n');
}

/** `markdown` with one part's section and target rows replaced (spliceSection), and its caution lines. */
export function spliceWithCautions(
  markdown: string,
  part: SplicedPart & { cautionPrefix: string; problems: readonly string[] },
): string {
  return spliceCautions(spliceSection(markdown, part), part.cautionPrefix, part.problems);
}
