import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, describeError } from '../core/errors.js';
import { describeMetadataStoreConformance } from './metadata-store.conformance.js';
import { openMetadataStore, parseMetadataUrl, redactUrl } from './open.js';

const dirs: string[] = [];
let counter = 0;

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'medallion-sqlite-'));
  dirs.push(dir);
  return dir;
}

describeMetadataStoreConformance('SQLite', {
  // A new database file per test (in a directory that does not exist yet: the store creates it).
  freshUrl: async () =>
    `sqlite:${path.join(await scratchDir(), 'state', `metadata-${(counter += 1)}.sqlite`)}`,
  concurrentInProcess: false,
});

describe('openMetadataStore', () => {
  it('opens SQLite from sqlite:PATH, a plain path or :memory:, in WAL mode for files', async () => {
    const dir = await scratchDir();
    for (const url of [
      `sqlite:${dir}/a.db`,
      `${dir}/b.db`,
      `sqlite://${dir}/c.db`,
      ':memory:',
      'sqlite::memory:',
    ]) {
      const store = await openMetadataStore(url);
      expect(store.dialect).toBe('sqlite');
      await store.upsertPipeline('p', 'h');
      expect(await store.getPipeline('p')).toMatchObject({ name: 'p', definitionHash: 'h', paused: false });
      await store.close();
    }
    expect(existsSync(`${dir}/a.db-wal`) || existsSync(`${dir}/a.db`)).toBe(true);
    const reopened = await openMetadataStore(`${dir}/a.db`);
    expect(await reopened.getPipeline('p')).toBeDefined();
    await reopened.close();
  });

  it('reads postgres URLs, keeping a schema parameter for itself', () => {
    expect(
      parseMetadataUrl('postgres://u:secret@db.example:5433/meta?schema=medallion&sslmode=disable'),
    ).toEqual({
      kind: 'postgres',
      connectionString: 'postgres://u:secret@db.example:5433/meta?sslmode=disable',
      schema: 'medallion',
    });
    expect(parseMetadataUrl('postgresql://localhost/meta')).toEqual({
      kind: 'postgres',
      connectionString: 'postgresql://localhost/meta',
    });
    expect(parseMetadataUrl('sqlite:state/metadata.sqlite')).toEqual({
      kind: 'sqlite',
      path: 'state/metadata.sqlite',
    });
    expect(parseMetadataUrl('./metadata.db')).toEqual({ kind: 'sqlite', path: './metadata.db' });
    expect(redactUrl('postgres://u:secret@h/db')).toBe('postgres://u:***@h/db');
  });

  it('rejects a bad URL with a ConfigError naming --db', async () => {
    for (const url of ['mysql://localhost/db', '', 'sqlite:', 'postgres://', 'postgres://u:secret@[bad/db']) {
      const error = await openMetadataStore(url).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error, url).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).context.field).toBe('--db');
      expect(describeError(error)).toMatch(/^--db: /);
      expect(describeError(error)).not.toContain('secret');
    }
    expect(describeError(await openMetadataStore('mysql://h/db').catch((caught: unknown) => caught))).toMatch(
      /unsupported .*"mysql:"[\s\S]*hint: use --db sqlite:PATH/,
    );
  });

  it('rejects a SQLite path it cannot create with a ConfigError naming --db', async () => {
    const dir = await scratchDir();
    // A directory is not a database file.
    const error = await openMetadataStore(`sqlite:${dir}`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect(describeError(error)).toMatch(/^--db: cannot open the SQLite metadata database/);
  });
});
