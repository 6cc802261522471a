/**
 * Incremental refinement, the decision: whether a refined table can take only the input rows committed since its
 * last version, or must be rebuilt from all of them. Pure: the caller reads the marks from the Delta log.
 *
 * An incremental table is three Delta tables committed one after the other — its dedupe state (the record that
 * ranks first per key), its quarantine, the table itself — and each commit carries the same marks: the versions of
 * the inputs it consumed and the digest of the definition that computed it. An increment is safe only when the
 * three agree and nothing but new rows of the driving input has changed since.
 */

/** What a commit of an incremental table records, in its commitInfo, about how it was computed. */
export interface IncrementMarks {
  /** Each input table (`layer.table`) and the version consumed. */
  inputs: Record<string, number>;
  /** The digest of the SQL, rules and macros that computed it. */
  definition: string;
}

/** The commitInfo fields holding the marks (restoring a version brings them back with it). */
export const MARK_FIELDS = { inputs: 'medallionInputs', definition: 'medallionDefinition' } as const;

export type RefreshPlan =
  { kind: 'full'; reason: string } | { kind: 'increment'; since: number; latest: number };

export interface RefreshFacts {
  /** The run asked for a rebuild (`--full-refresh`). */
  fullRefresh: boolean;
  /** The engine cannot merge (no copy-on-write merge on it). */
  engineCannotMerge?: string;
  definition: string;
  /** The refine input (`layer.table`), whose new rows an increment takes. */
  driving: string;
  /** The latest version of every input the table reads, the driving one included. */
  inputs: Record<string, number>;
  /** The marks of the latest commit of the state, the quarantine and the table (undefined: none recorded). */
  marks: readonly (IncrementMarks | undefined)[];
  /** True when a data file of the driving input's marked version is gone from its latest version. */
  drivingRewritten: (since: number) => boolean;
}

export function planRefresh(facts: RefreshFacts): RefreshPlan {
  const full = (reason: string): RefreshPlan => ({ kind: 'full', reason });
  if (facts.fullRefresh) return full('a full refresh was asked for');
  if (facts.engineCannotMerge) return full(facts.engineCannotMerge);
  const [first, ...others] = facts.marks;
  if (!first || others.some((marks) => !marks)) return full('no earlier increment is recorded');
  if (others.some((marks) => !sameMarks(first, marks!))) {
    return full('the table, its quarantine and its dedupe state were not committed by the same try');
  }
  if (first.definition !== facts.definition) return full('its SQL, rules or macros changed');
  for (const [input, version] of Object.entries(facts.inputs)) {
    if (input === facts.driving) continue;
    const consumed = first.inputs[input];
    if (consumed !== version) return full(`${input} changed (version ${consumed ?? 'none'} → ${version})`);
  }
  const since = first.inputs[facts.driving];
  const latest = facts.inputs[facts.driving];
  if (since === undefined || latest === undefined) return full(`no version of ${facts.driving} is recorded`);
  if (latest < since) return full(`${facts.driving} went back from version ${since} to ${latest}`);
  if (facts.drivingRewritten(since)) return full(`${facts.driving} was rewritten since version ${since}`);
  return { kind: 'increment', since, latest };
}

function sameMarks(a: IncrementMarks, b: IncrementMarks): boolean {
  return (
    a.definition === b.definition && JSON.stringify(sorted(a.inputs)) === JSON.stringify(sorted(b.inputs))
  );
}

function sorted(inputs: Record<string, number>): [string, number][] {
  return Object.entries(inputs).sort(([a], [b]) => (a < b ? -1 : 1));
}

/** The marks as commitInfo fields. */
export function markFields(marks: IncrementMarks): Record<string, string> {
  return {
    [MARK_FIELDS.inputs]: JSON.stringify(Object.fromEntries(sorted(marks.inputs))),
    [MARK_FIELDS.definition]: marks.definition,
  };
}

/** The marks a commitInfo holds; undefined when it holds none or they are malformed. */
export function marksOf(commitInfo: Record<string, unknown> | undefined): IncrementMarks | undefined {
  const inputs = commitInfo?.[MARK_FIELDS.inputs];
  const definition = commitInfo?.[MARK_FIELDS.definition];
  if (typeof inputs !== 'string' || typeof definition !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(inputs);
    if (!parsed || typeof parsed !== 'object') return undefined;
    const entries = Object.entries(parsed as Record<string, unknown>);
    if (!entries.every(([, version]) => Number.isInteger(version))) return undefined;
    return { inputs: Object.fromEntries(entries) as Record<string, number>, definition };
  } catch {
    return undefined;
  }
}
