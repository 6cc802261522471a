/** The contracts file's layout: one `{"marches": [...]}` document, as the DECP export writes it. */
import type { JsonObject } from './json.js';
import { withWriter } from './writer.js';

/**
 * Python's json.dumps(indent=2) layout: JSON.stringify gives the same text for these values, so each
 * record is stringified alone and shifted two levels in.
 */
function indentRecord(json: string): string {
  return `    ${json.replace(/\n/g, '\n    ')}`;
}

/** Writes the records as one document, streamed; `onRecord` hears the count written after each. */
export async function writeContractsDocument(
  path: string,
  records: Iterable<JsonObject>,
  onRecord?: (written: number) => void,
): Promise<void> {
  await withWriter(path, async (w) => {
    w.add('{\n  "marches": [\n');
    let written = 0;
    for (const record of records) {
      const text = indentRecord(JSON.stringify(record, null, 2));
      if (w.add(written === 0 ? text : `,\n${text}`)) await w.flush();
      written++;
      onRecord?.(written);
    }
    w.add('\n  ]\n}');
  });
}
