import { describe, expect, it } from 'vitest';
import { ConfigError, describeError } from './errors.js';
import {
  dueIntervals,
  intervalsBetween,
  nextRunAt,
  parseDuration,
  validateSchedule,
  type Schedule,
} from './schedule.js';

const iso = (intervals: { start: Date; end: Date }[]) =>
  intervals.map(({ start, end }) => [start.toISOString(), end.toISOString()]);

const everySixHours: Schedule = {
  spec: { cron: '0 */6 * * *' },
  startDate: '2026-01-01T00:00:00Z',
  catchup: false,
  maxActiveRuns: 1,
};

describe('dueIntervals', () => {
  it('starts a run once its interval has ended; the logical date is the interval start', () => {
    expect(iso(dueIntervals(everySixHours, undefined, new Date('2026-01-01T05:59:00Z')))).toEqual([]);
    expect(iso(dueIntervals(everySixHours, undefined, new Date('2026-01-01T06:00:00Z')))).toEqual([
      ['2026-01-01T00:00:00.000Z', '2026-01-01T06:00:00.000Z'],
    ]);
  });

  it('without catchup, creates only the latest missed interval', () => {
    const now = new Date('2026-01-02T13:00:00Z');
    expect(iso(dueIntervals(everySixHours, new Date('2026-01-01T00:00:00Z'), now))).toEqual([
      ['2026-01-02T06:00:00.000Z', '2026-01-02T12:00:00.000Z'],
    ]);
  });

  it('without catchup, finds the latest interval of a schedule started long ago at once, not interval by interval', () => {
    // Walking 27 years of minutes (14 million intervals) took minutes on every scheduler tick and page view.
    const now = new Date('2026-11-29T18:30:00Z');
    for (const spec of [{ cron: '* * * * *' }, { every: '1m' }]) {
      const schedule: Schedule = { ...everySixHours, spec, startDate: '2000-01-01T00:00:00Z' };
      expect(iso(dueIntervals(schedule, undefined, now))).toEqual([
        ['2026-11-29T18:29:00.000Z', '2026-11-29T18:30:00.000Z'],
      ]);
      expect(iso(dueIntervals(schedule, new Date('2026-11-29T18:29:00Z'), now))).toEqual([]);
      expect(nextRunAt(schedule, new Date('2026-11-29T18:29:00Z'), now).toISOString()).toBe(
        '2026-11-29T18:31:00.000Z',
      );
      expect(nextRunAt(schedule, undefined, now).toISOString()).toBe('2026-11-29T18:30:00.000Z');
    }
  });

  it('without catchup, creates nothing before the first interval after the start date has ended', () => {
    const schedule: Schedule = { ...everySixHours, startDate: '2026-01-01T03:00:00Z' };
    expect(iso(dueIntervals(schedule, undefined, new Date('2026-01-01T11:59:00Z')))).toEqual([]);
    expect(iso(dueIntervals(schedule, undefined, new Date('2026-01-01T12:00:00Z')))).toEqual([
      ['2026-01-01T06:00:00.000Z', '2026-01-01T12:00:00.000Z'],
    ]);
  });

  it('with catchup, creates every missed interval in order', () => {
    const now = new Date('2026-01-02T00:30:00Z');
    expect(iso(dueIntervals({ ...everySixHours, catchup: true }, undefined, now))).toEqual([
      ['2026-01-01T00:00:00.000Z', '2026-01-01T06:00:00.000Z'],
      ['2026-01-01T06:00:00.000Z', '2026-01-01T12:00:00.000Z'],
      ['2026-01-01T12:00:00.000Z', '2026-01-01T18:00:00.000Z'],
      ['2026-01-01T18:00:00.000Z', '2026-01-02T00:00:00.000Z'],
    ]);
  });

  it('follows local time across a DST change', () => {
    // Europe/Paris springs forward on 2026-03-29: 06:00 local is 04:00 UTC that day, 05:00 the day before.
    const schedule: Schedule = {
      spec: { cron: '0 6 * * *', timezone: 'Europe/Paris' },
      startDate: '2026-03-27T00:00:00Z',
      catchup: true,
      maxActiveRuns: 1,
    };
    expect(iso(dueIntervals(schedule, undefined, new Date('2026-03-30T12:00:00Z')))).toEqual([
      ['2026-03-27T05:00:00.000Z', '2026-03-28T05:00:00.000Z'],
      ['2026-03-28T05:00:00.000Z', '2026-03-29T04:00:00.000Z'],
      ['2026-03-29T04:00:00.000Z', '2026-03-30T04:00:00.000Z'],
    ]);
  });

  it('counts fixed periods from the start date', () => {
    const schedule: Schedule = {
      spec: { every: '90m' },
      startDate: '2026-01-01T00:10:00Z',
      catchup: true,
      maxActiveRuns: 1,
    };
    expect(iso(dueIntervals(schedule, undefined, new Date('2026-01-01T03:10:00Z')))).toEqual([
      ['2026-01-01T00:10:00.000Z', '2026-01-01T01:40:00.000Z'],
      ['2026-01-01T01:40:00.000Z', '2026-01-01T03:10:00.000Z'],
    ]);
  });
});

describe('intervalsBetween', () => {
  it('lists the intervals a backfill creates, oldest first', () => {
    expect(
      iso(
        intervalsBetween(everySixHours, new Date('2026-02-01T00:00:00Z'), new Date('2026-02-01T12:00:00Z')),
      ),
    ).toEqual([
      ['2026-02-01T00:00:00.000Z', '2026-02-01T06:00:00.000Z'],
      ['2026-02-01T06:00:00.000Z', '2026-02-01T12:00:00.000Z'],
      ['2026-02-01T12:00:00.000Z', '2026-02-01T18:00:00.000Z'],
    ]);
  });
});

describe('validateSchedule', () => {
  it('names the field of a bad cron expression, time zone or period', () => {
    expect(() => validateSchedule({ cron: '61 * * * *' })).toThrow(/schedule.cron: "61 \* \* \* \*"/);
    expect(() => validateSchedule({ cron: '0 * * * *', timezone: 'Mars/Olympus' })).toThrow(ConfigError);
    expect(() => validateSchedule({ every: '6 hours' })).toThrow(/schedule.every/);
    expect(parseDuration('5m')).toBe(300_000);
  });

  it('names the field once when the error is printed', () => {
    let printed = '';
    try {
      parseDuration('5x', '--retain');
    } catch (error) {
      printed = describeError(error);
    }
    expect(printed).toMatch(/^--retain: "5x" is not a duration\n {2}hint:/);
  });
});
