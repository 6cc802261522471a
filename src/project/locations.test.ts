import { describe, expect, it } from 'vitest';
import { storeSettings } from './locations.js';

describe('storeSettings', () => {
  it('reads part size, concurrency and attempts for S3 transfers from the environment', () => {
    const settings = storeSettings({
      MEDALLION_S3_PART_SIZE_MB: '16',
      MEDALLION_S3_CONCURRENCY: '8',
      MEDALLION_S3_MAX_ATTEMPTS: '3',
      MEDALLION_CACHE_DIR: '/tmp/cache',
    });
    expect(settings.s3).toEqual({ partSizeBytes: 16 * 1024 * 1024, queueSize: 8, maxAttempts: 3 });
    expect(settings.cacheDir).toBe('/tmp/cache');
  });

  it('names the variable when a setting is not a usable number', () => {
    expect(() => storeSettings({ MEDALLION_S3_PART_SIZE_MB: '2' })).toThrow(
      /MEDALLION_S3_PART_SIZE_MB must be a whole number ≥ 5/,
    );
    expect(() => storeSettings({ MEDALLION_CACHE_MAX_BYTES: 'lots' })).toThrow(/MEDALLION_CACHE_MAX_BYTES/);
  });
});
