/**
 * Retention: how long each part of a lake keeps what it no longer needs for its current state — raw landing copies
 * bronze has loaded, the data files of old table versions (time travel), the quarantine's history, and files left
 * by tries that crashed. Declared in the project file (`retention`, at the top or per pipeline), recorded with each
 * run, applied by the maintenance task of `data_quality_checks` and by `medallion retention`. No I/O here.
 */
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { parseDuration } from './schedule.js';

/** The retention a project file declares; each duration as written (`30d`, `12h`). */
export interface RetentionSettings {
  /** Landing copies bronze has loaded are deleted once this old; absent: kept forever. */
  landing?: string;
  /** Versions of bronze, silver and gold tables stay readable this far back (default 7d). */
  versions?: string;
  /** Versions of quarantine tables stay readable this far back (default: `versions`). */
  quarantine?: string;
  /** Files no version or landing record names (a crashed try's) are deleted once this old (default 1d). */
  leftovers?: string;
  /** Allow durations under MIN_RETENTION_MS. */
  forceShortRetention?: boolean;
}

/** A duration as declared and in milliseconds. */
export interface RetentionDuration {
  text: string;
  ms: number;
}

/** A retention with its defaults filled in: what a retention pass applies. */
export interface RetentionPolicy {
  landing: RetentionDuration | null;
  versions: RetentionDuration;
  quarantine: RetentionDuration;
  leftovers: RetentionDuration;
}

type DurationKey = 'landing' | 'versions' | 'quarantine' | 'leftovers';
const DURATION_KEYS: readonly DurationKey[] = ['landing', 'versions', 'quarantine', 'leftovers'];

export const DEFAULT_RETENTION = { versions: '7d', leftovers: '1d' } as const;

/**
 * Shorter than this, a retention deletes what someone may still be using: a reader of an older version, a query
 * still running, a writer about to commit the files it uploaded.
 */
export const MIN_RETENTION_MS = 3_600_000;

const SHORT_RETENTION_HINT =
  'a short retention deletes files that readers of older versions (time travel, a query still running, ' +
  'a writer about to commit) may need';

function isShort(duration: RetentionDuration, force: boolean): boolean {
  return duration.ms < MIN_RETENTION_MS && !force;
}

/** Refuses a retention under MIN_RETENTION_MS unless forced; `field` and `forceName` name the setting and its override. */
export function checkRetentionMinimum(
  duration: RetentionDuration,
  options: { field: string; force: boolean; forceName: string },
): void {
  if (!isShort(duration, options.force)) return;
  throw new ConfigError(`${options.field}: ${duration.text} is shorter than the 1h minimum retention`, {
    context: { field: options.field },
    hint: `${SHORT_RETENTION_HINT}; set ${options.forceName} if that is what you want`,
  });
}

function durationOf(text: string, field: string): RetentionDuration {
  return { text, ms: parseDuration(text, field) };
}

function isDuration(text: string): boolean {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}

const durationText = z
  .string()
  .refine(isDuration, 'a duration: a whole number and a unit, such as 90m, 12h or 30d');

/** The `retention` key of the project file, at the top or in a pipeline's entry. */
export const retentionSchema = z
  .strictObject({
    landing: durationText.optional(),
    versions: durationText.optional(),
    quarantine: durationText.optional(),
    leftovers: durationText.optional(),
    forceShortRetention: z.boolean().optional(),
  })
  .superRefine((settings, context) => {
    for (const key of DURATION_KEYS) {
      const text = settings[key];
      if (text === undefined || !isDuration(text)) continue;
      if (!isShort(durationOf(text, key), settings.forceShortRetention === true)) continue;
      context.addIssue({
        code: 'custom',
        path: [key],
        message: `${text} is shorter than the 1h minimum retention: ${SHORT_RETENTION_HINT}; set forceShortRetention: true beside it if that is what you want`,
      });
    }
  });

/** A pipeline's retention: its entry's settings, key by key, over the file's top-level ones. */
export function mergeRetention(
  shared: RetentionSettings | undefined,
  own: RetentionSettings | undefined,
): RetentionSettings | undefined {
  if (!shared && !own) return undefined;
  return { ...shared, ...own };
}

/** The policy of `settings` with the defaults filled in; a bad or too short duration is a ConfigError naming it. */
export function retentionPolicy(settings: RetentionSettings = {}, field = 'retention'): RetentionPolicy {
  const force = settings.forceShortRetention === true;
  const checked = (key: DurationKey, text: string): RetentionDuration => {
    const duration = durationOf(text, `${field}.${key}`);
    checkRetentionMinimum(duration, {
      field: `${field}.${key}`,
      force,
      forceName: `${field}.forceShortRetention`,
    });
    return duration;
  };
  const versions = checked('versions', settings.versions ?? DEFAULT_RETENTION.versions);
  return {
    landing: settings.landing === undefined ? null : checked('landing', settings.landing),
    versions,
    quarantine: settings.quarantine === undefined ? versions : checked('quarantine', settings.quarantine),
    leftovers: checked('leftovers', settings.leftovers ?? DEFAULT_RETENTION.leftovers),
  };
}
