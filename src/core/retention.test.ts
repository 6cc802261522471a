import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { mergeRetention, retentionPolicy, retentionSchema } from './retention.js';

const DAY = 86_400_000;

describe('the retention policy', () => {
  it('fills in the defaults: landing copies kept, versions 7 days, the quarantine as versions, leftovers 1 day', () => {
    expect(retentionPolicy()).toEqual({
      landing: null,
      versions: { text: '7d', ms: 7 * DAY },
      quarantine: { text: '7d', ms: 7 * DAY },
      leftovers: { text: '1d', ms: DAY },
    });
    expect(retentionPolicy({ landing: '30d', versions: '2d', quarantine: '90d' })).toMatchObject({
      landing: { text: '30d', ms: 30 * DAY },
      quarantine: { text: '90d', ms: 90 * DAY },
    });
  });

  it('merges a pipeline’s settings key by key over the file’s', () => {
    expect(mergeRetention({ landing: '30d', versions: '7d' }, { versions: '14d' })).toEqual({
      landing: '30d',
      versions: '14d',
    });
    expect(mergeRetention(undefined, undefined)).toBeUndefined();
  });

  it('refuses a duration under an hour unless forced, naming the setting and its override', () => {
    const refusal = (() => {
      try {
        retentionPolicy({ leftovers: '59m' }, 'pipelines.checks.retention');
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(ConfigError);
    expect((refusal as ConfigError).context?.field).toBe('pipelines.checks.retention.leftovers');
    expect((refusal as ConfigError).hint).toContain('pipelines.checks.retention.forceShortRetention');
    expect(retentionPolicy({ leftovers: '59m', forceShortRetention: true }).leftovers.ms).toBe(59 * 60_000);
  });

  it('validates the project file’s key: durations, the minimum, no other key', () => {
    const issues = (value: unknown) =>
      retentionSchema.safeParse(value).error?.issues.map((issue) => [issue.path.join('.'), issue.message]);
    expect(issues({ landing: '30d', versions: '1h' })).toBeUndefined();
    expect(issues({ versions: '0d' })).toEqual([
      ['versions', 'a duration: a whole number and a unit, such as 90m, 12h or 30d'],
    ]);
    expect(issues({ quarantine: '30m' })?.[0]?.[0]).toBe('quarantine');
    expect(issues({ quarantine: '30m', forceShortRetention: true })).toBeUndefined();
    expect(issues({ days: '30d' })?.[0]?.[1]).toMatch(/days/);
  });
});
