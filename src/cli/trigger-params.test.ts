import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { medallion } from '../testing/medallion-cli.js';

let db: string;
let lake: string;
beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-trigger-params-'));
  db = `sqlite:${path.join(dir, 'm.db')}`;
  lake = path.join(dir, 'lake');
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
        '--lake',
        lake,
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
