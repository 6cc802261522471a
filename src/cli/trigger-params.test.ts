import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { medallion } from '../testing/medallion-cli.js';

let db: string;
beforeAll(async () => {
  db = `sqlite:${path.join(await mkdtemp(path.join(os.tmpdir(), 'medallion-trigger-params-')), 'm.db')}`;
});

describe('medallion trigger --param', () => {
  it.each(['toString', '__proto__', 'constructor'])(
    'exits 2 naming %s, which the pipeline does not declare, and queues no run',
    async (name) => {
      const { code, stderr } = await medallion([
        'trigger',
        'data_quality_checks',
        '--param',
        `${name}=1`,
        '--db',
        db,
      ]);
      expect(code).toBe(2);
      expect(stderr).toContain(
        `parameter ${name}: the pipeline declares no such parameter (declared: max_age_hours)`,
      );
      expect((await medallion(['runs', '--db', db, '--json'])).stdout.trim()).toBe('[]');
    },
  );
});
