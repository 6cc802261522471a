/**
 * The snapshot part of the MetadataStore conformance suite: every table read in one consistent snapshot and
 * loaded back, exactly, into an empty store. Called by describeMetadataStoreConformance, so SQLite and
 * PostgreSQL both pass it.
 */
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeError } from '../core/errors.js';
import { KyselyMetadataStore } from './kysely-store.js';
import { StoreNotEmptyError, type MetadataStore, type SnapshotRow } from './metadata-store.js';
import { at, run } from './run-control.conformance.js';

interface ReadSnapshot {
  migration: number;
  tables: { table: string; rows: SnapshotRow[] }[];
}

async function readAll(store: MetadataStore): Promise<ReadSnapshot> {
  const tables: ReadSnapshot['tables'] = [];
  const { migration } = await store.readSnapshot(async ({ table, pages }) => {
    const rows: SnapshotRow[] = [];
    for await (const page of pages) rows.push(...page);
    tables.push({ table, rows });
  });
  return { migration, tables };
}

async function* replay(snapshot: ReadSnapshot) {
  for (const { table, rows } of snapshot.tables) {
    yield {
      table,
      pages: (async function* () {
        yield rows;
      })(),
    };
  }
}

/** Something in every table: a run with a finished try and its log, an alert, a connection, accounts, a lease. */
async function populate(store: MetadataStore): Promise<void> {
  await store.upsertPipeline('sales', 'def-1');
  await store.createRun(run('r1'));
  expect(
    await store.startRun('r1', at(1), { key: 'sales@/data/lake', holder: 'host:1:a', ttlMs: 60_000 }),
  ).toEqual({ started: true });
  await store.transitionTask('r1', 'extract', ['scheduled'], 'queued');
  const [attempt] = await store.claimTasks('host:1:a', 1, at(2));
  expect(attempt?.taskId).toBe('extract');
  await store.appendLog('r1', 'extract', 1, ['read 3 rows', 'ünïcödé ✓']);
  await store.finishAttempt('r1', 'extract', 1, {
    state: 'success',
    finishedAt: at(3),
    output: { rows: 3 },
    task: { state: 'success', fingerprint: 'fp-1' },
  });
  await store.recordAlert({
    cause: 'run_failed:sales',
    occurrence: 'r1',
    at: at(4),
    groupWindowMs: 3_600_000,
    kind: 'run_failed',
    severity: 'error',
    title: 'sales failed',
    text: 'r1 failed',
  });
  await store.putConnection({
    name: 'minio',
    kind: 's3',
    config: { region: 'us-east-1' },
    secret: 'sealed:abc',
  });
  await store.createUser({ id: 'u1', name: 'ann', role: 'admin', passwordHash: 'argon2id$…' });
  await store.createSession({
    idHash: 's1',
    userId: 'u1',
    csrfToken: 'c',
    createdAt: at(5),
    expiresAt: at(60),
    address: null,
    userAgent: 'test',
  });
  await store.createApiToken({
    id: 't1',
    userId: 'u1',
    name: 'prometheus',
    secretHash: 'h',
    createdAt: at(5),
    expiresAt: null,
  });
  await store.recordLoginFailure(['ann', '127.0.0.1'], at(6));
  await store.recordProcess(
    { id: 'host:1:a', kind: 'scheduler', host: 'host', pid: 1, startedAt: at(0), pipelines: [] },
    at(6),
  );
}

/** The tables the database holds (in the store's schema on PostgreSQL), as its catalog lists them. */
async function catalogTables(store: MetadataStore): Promise<string[]> {
  if (!(store instanceof KyselyMetadataStore)) throw new Error('the catalog of this store cannot be read');
  const db = store.kysely;
  const schema =
    store.dialect === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined;
  const tables = await db.introspection.getTables();
  return tables
    .filter((table) => table.schema === schema && !table.isView)
    .map((table) => table.name)
    .sort();
}

export function describeSnapshotConformance(
  freshStore: () => Promise<{ store: MetadataStore; url: string }>,
  another: (url: string) => Promise<MetadataStore>,
): void {
  it('reads every table in one snapshot and loads it into an empty store exactly as it was', async () => {
    const { store: source } = await freshStore();
    await populate(source);
    const snapshot = await readAll(source);
    expect(snapshot.migration).toBe(Math.max(...(await source.appliedMigrations())));
    for (const { table, rows } of snapshot.tables) expect(rows.length, table).toBeGreaterThan(0);

    const { store: target } = await freshStore();
    await target.loadSnapshot(snapshot.migration, replay(snapshot));
    expect(await readAll(target)).toEqual(snapshot);
    expect(await target.getRun('r1')).toEqual(await source.getRun('r1'));
    expect(await target.listAttempts('r1')).toEqual(await source.listAttempts('r1'));
    expect((await target.readLog('r1', 'extract', 1)).lines).toEqual(['read 3 rows', 'ünïcödé ✓']);
    expect(await target.lastSuccessFingerprint('sales', 'extract', '/data/lake')).toBe('fp-1');
    expect((await target.getConnection('minio'))?.secret).toBe('sealed:abc');
  });

  it('has every table the migrations create but their own in a snapshot', async () => {
    const { store } = await freshStore();
    const tables: string[] = [];
    await store.readSnapshot(async ({ table }) => {
      tables.push(table);
    });
    expect([...tables, 'medallion_migrations'].sort()).toEqual(await catalogTables(store));
  });

  it('reads one state of the database while others write: a run created during the read is not in it', async () => {
    const { store, url } = await freshStore();
    await populate(store);
    const writer = await another(url);
    const runIds: unknown[] = [];
    await store.readSnapshot(async ({ table, pages }) => {
      // Before the runs are read, another connection commits a new one.
      if (table === 'medallion_pipelines') await writer.createRun(run('r2'));
      for await (const page of pages)
        if (table === 'medallion_runs') runIds.push(...page.map((row) => row.id));
    });
    expect(runIds).toEqual(['r1']);
    expect((await store.getRun('r2'))?.id).toBe('r2');
  });

  it('refuses to load into a database that holds rows, unless told to replace them', async () => {
    const { store: source } = await freshStore();
    await populate(source);
    const snapshot = await readAll(source);
    const { store: target } = await freshStore();
    await target.createUser({ id: 'u9', name: 'zoe', role: 'viewer', passwordHash: 'h' });

    const refused = await target
      .loadSnapshot(snapshot.migration, replay(snapshot))
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreNotEmptyError);
    expect(describeError(refused)).toContain('medallion_users holds 1 row(s)');
    expect((await target.listUsers()).map((user) => user.name)).toEqual(['zoe']);

    await target.loadSnapshot(snapshot.migration, replay(snapshot), { replace: true });
    expect(await readAll(target)).toEqual(snapshot);
  });

  it('refuses a snapshot of another migration version, or with an unknown table, and loads nothing', async () => {
    const { store: source } = await freshStore();
    await populate(source);
    const snapshot = await readAll(source);
    const { store: target } = await freshStore();

    const newer = await target
      .loadSnapshot(snapshot.migration + 1, replay(snapshot))
      .catch((error: unknown) => error);
    expect(describeError(newer)).toContain(
      `read at migration ${snapshot.migration + 1}, the database is at migration ${snapshot.migration}`,
    );
    const unknown = { ...snapshot, tables: [...snapshot.tables, { table: 'medallion_nothing', rows: [] }] };
    const strange = await target
      .loadSnapshot(snapshot.migration, replay(unknown))
      .catch((error: unknown) => error);
    expect(describeError(strange)).toContain(
      'a table the metadata database does not know: medallion_nothing',
    );
    expect(await target.listRuns()).toEqual([]);
  });
}
