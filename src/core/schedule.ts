import { CronExpressionParser } from 'cron-parser';
import cronstrue from 'cronstrue';
import { ConfigError } from './errors.js';

/**
 * When a pipeline runs by itself. As in Airflow, a run covers a data interval and starts once the
 * interval has ended; its logical date is the interval's start.
 */
export type ScheduleSpec =
  /** A cron expression evaluated in an IANA time zone (DST-correct), e.g. `0 *\/6 * * *`. */
  | { cron: string; timezone?: string }
  /** A fixed period such as `6h`, `30m`, `1d`, counted from the start date. */
  | { every: string };

export interface Schedule {
  spec: ScheduleSpec;
  /** The first interval starts at or after this instant (ISO 8601). */
  startDate: string;
  /** Create the runs of every missed interval (true), or only of the latest one (false). */
  catchup: boolean;
  /** Runs of the pipeline that may be queued or running at once. */
  maxActiveRuns: number;
}

export interface DataInterval {
  start: Date;
  end: Date;
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `6h`, `1d` → milliseconds. */
export function parseDuration(text: string, field = 'duration'): number {
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (!match || Number(match[1]) === 0) {
    throw new ConfigError(`${field}: "${text}" is not a duration`, {
      context: { field },
      hint: 'write a whole number and a unit: 90s, 30m, 6h, 1d',
    });
  }
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/** Checks a spec at the boundary; a bad cron expression or time zone names itself. */
export function validateSchedule(spec: ScheduleSpec, field = 'schedule'): void {
  if ('every' in spec) {
    parseDuration(spec.every, `${field}.every`);
    return;
  }
  if (spec.timezone && !isTimeZone(spec.timezone)) {
    throw new ConfigError(`${field}.timezone: "${spec.timezone}" is not an IANA time zone`, {
      context: { field: `${field}.timezone` },
      hint: 'for example Europe/Paris or UTC',
    });
  }
  try {
    CronExpressionParser.parse(spec.cron, { tz: spec.timezone ?? 'UTC' });
  } catch (error) {
    throw new ConfigError(
      `${field}.cron: "${spec.cron}" is not a cron expression (${(error as Error).message})`,
      {
        context: { field: `${field}.cron` },
        hint: 'five fields: minute hour day-of-month month day-of-week, e.g. 0 */6 * * *',
      },
    );
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The first schedule point strictly after `after`. */
function nextPoint(spec: ScheduleSpec, startDate: Date, after: Date): Date {
  if ('every' in spec) {
    const period = parseDuration(spec.every);
    if (after < startDate) return startDate;
    const steps = Math.floor((after.getTime() - startDate.getTime()) / period) + 1;
    return new Date(startDate.getTime() + steps * period);
  }
  const expression = CronExpressionParser.parse(spec.cron, {
    currentDate: after,
    tz: spec.timezone ?? 'UTC',
  });
  return expression.next().toDate();
}

/** The schedule point at or after `instant`. */
function pointAtOrAfter(spec: ScheduleSpec, startDate: Date, instant: Date): Date {
  return nextPoint(spec, startDate, new Date(instant.getTime() - 1));
}

/** The last schedule point strictly before `before`, if the schedule has one since its start date. */
function previousPoint(spec: ScheduleSpec, startDate: Date, before: Date): Date | undefined {
  if ('every' in spec) {
    const period = parseDuration(spec.every);
    if (before <= startDate) return undefined;
    const steps = Math.ceil((before.getTime() - startDate.getTime()) / period) - 1;
    return new Date(startDate.getTime() + steps * period);
  }
  const expression = CronExpressionParser.parse(spec.cron, {
    currentDate: before,
    tz: spec.timezone ?? 'UTC',
  });
  return expression.prev().toDate();
}

/** The start of the first interval not run yet: after the latest logical date, else the schedule's first. */
function firstUnrunStart(schedule: Schedule, lastLogicalDate: Date | undefined): Date {
  const startDate = new Date(schedule.startDate);
  return lastLogicalDate
    ? nextPoint(schedule.spec, startDate, lastLogicalDate)
    : pointAtOrAfter(schedule.spec, startDate, startDate);
}

/**
 * The most recent interval that ended by `now` and was not run yet, found from `now` backwards: a schedule started
 * years ago (every minute since 2020) costs two steps, not one per interval.
 */
function latestDueInterval(
  schedule: Schedule,
  lastLogicalDate: Date | undefined,
  now: Date,
): DataInterval | undefined {
  const startDate = new Date(schedule.startDate);
  const first = firstUnrunStart(schedule, lastLogicalDate);
  const end = previousPoint(schedule.spec, startDate, new Date(now.getTime() + 1));
  const start = end && previousPoint(schedule.spec, startDate, end);
  return start && end && start >= first ? { start, end } : undefined;
}

/**
 * The intervals whose runs are due at `now`, oldest first: those that ended by `now` and start
 * after the latest logical date already run. Without catchup, only the most recent one.
 */
export function dueIntervals(
  schedule: Schedule,
  lastLogicalDate: Date | undefined,
  now: Date,
): DataInterval[] {
  if (!schedule.catchup) {
    const latest = latestDueInterval(schedule, lastLogicalDate, now);
    return latest ? [latest] : [];
  }
  const startDate = new Date(schedule.startDate);
  let start = firstUnrunStart(schedule, lastLogicalDate);
  const due: DataInterval[] = [];
  for (;;) {
    const end = nextPoint(schedule.spec, startDate, start);
    if (end > now) break;
    due.push({ start, end });
    start = end;
  }
  return due;
}

/** Every interval whose start lies in [from, to], for a backfill, oldest first. */
export function intervalsBetween(schedule: Schedule, from: Date, to: Date): DataInterval[] {
  const startDate = new Date(schedule.startDate);
  const intervals: DataInterval[] = [];
  for (let start = pointAtOrAfter(schedule.spec, startDate, from); start <= to;) {
    const end = nextPoint(schedule.spec, startDate, start);
    intervals.push({ start, end });
    start = end;
  }
  return intervals;
}

/**
 * When the next run is created: at the end of the first interval after the latest logical date run (or of the
 * first interval of all). At or before `now`, it is due now.
 */
export function nextRunAt(schedule: Schedule, lastLogicalDate: Date | undefined, now: Date): Date {
  const due = latestDueInterval(schedule, lastLogicalDate, now);
  if (due) return due.end;
  const startDate = new Date(schedule.startDate);
  return nextPoint(schedule.spec, startDate, firstUnrunStart(schedule, lastLogicalDate));
}

/** The schedule for people: "At 06:00 (Europe/Paris)", "every 6h". */
export function describeSchedule(spec: ScheduleSpec): string {
  if ('every' in spec) return `every ${spec.every}`;
  const words = cronstrue.toString(spec.cron, {
    use24HourTimeFormat: true,
    throwExceptionOnParseError: false,
  });
  return `${words}${spec.timezone && spec.timezone !== 'UTC' ? ` (${spec.timezone})` : ' (UTC)'}`;
}
