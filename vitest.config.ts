import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Absolute, so that a run with another --root (the guard's own test) still uses it.
    globalSetup: [fileURLToPath(new URL('src/testing/sandbox-setup.ts', import.meta.url))],
  },
});
