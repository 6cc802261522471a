/**
 * What a backup location holds: files stored once each under their SHA-256 (`objects/ab/abcd…`), shared by
 * every backup, and one manifest per backup (`backups/<id>/manifest.json`) naming the files that make it up —
 * the metadata store's tables and every lake object, each with its checksum. A backup whose manifest is absent
 * did not finish; its files are kept for the next one.
 */
import { z } from 'zod';
import { MedallionError } from '../core/errors.js';
import { ObjectNotFoundError, type ObjectStore } from '../storage/object-store.js';
import { LAKE_AREAS, type LakeArea } from '../table/lake-layout.js';

const SHA256 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex');
const COUNT = z.number().int().nonnegative();
/** When the backup was made, as `20240501T060000123Z`: ids sort in time order. */
const BACKUP_ID = /^\d{8}T\d{9}Z$/;

const lakeObjectSchema = z.object({
  area: z.enum(LAKE_AREAS as readonly [LakeArea, ...LakeArea[]]),
  key: z.string().min(1),
  size: COUNT,
  sha256: SHA256,
  /** When the object was last written in the lake: with its size, what says it is unchanged since. */
  modified: z.string(),
});

/** What a backup copied that the location did not hold yet. */
const copiedSchema = z.object({ objects: COUNT, bytes: COUNT });

export const manifestSchema = z.object({
  format: z.literal(1),
  id: z.string().regex(BACKUP_ID),
  createdAt: z.string(),
  metadata: z.object({
    kind: z.enum(['sqlite', 'postgres']),
    migration: COUNT,
    tables: z.array(z.object({ table: z.string(), rows: COUNT, size: COUNT, sha256: SHA256 })),
    copied: copiedSchema,
  }),
  lakes: z.array(
    z.object({ location: z.string(), objects: z.array(lakeObjectSchema), copied: copiedSchema }),
  ),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type LakeObject = z.infer<typeof lakeObjectSchema>;

export function backupId(createdAt: Date): string {
  return createdAt.toISOString().replace(/[-:.]/g, '');
}

export function objectKey(sha256: string): string {
  return `objects/${sha256.slice(0, 2)}/${sha256}`;
}

const BACKUPS = 'backups/';
const MANIFEST = 'manifest.json';

export function manifestKey(id: string): string {
  return `${BACKUPS}${id}/${MANIFEST}`;
}

/** The ids of the finished backups at the location, oldest first. */
export async function backupIds(location: ObjectStore): Promise<string[]> {
  return (await location.list(BACKUPS))
    .map((object) => object.key.slice(BACKUPS.length).split('/'))
    .filter(
      ([id, file, ...rest]) => id !== undefined && BACKUP_ID.test(id) && file === MANIFEST && !rest.length,
    )
    .map(([id]) => id as string)
    .sort();
}

/** The backup `id` names (default: the latest), checked against the manifest's shape. */
export async function readManifest(location: ObjectStore, id?: string): Promise<Manifest> {
  const chosen = id ?? (await backupIds(location)).at(-1);
  if (chosen === undefined) {
    throw new MedallionError(`${location.location} holds no backup`, {
      context: { field: '--from' },
      hint: 'pass the location `medallion backup --to` wrote',
    });
  }
  const key = manifestKey(chosen);
  const file = `${location.location}/${key}`;
  let text: string;
  try {
    text = (await location.get(key)).toString('utf8');
  } catch (error) {
    if (!(error instanceof ObjectNotFoundError)) throw error;
    throw new MedallionError(`no backup ${chosen} in ${location.location}`, {
      context: { field: '--backup' },
      hint: 'see `medallion restore --from LOCATION --list` for the backups it holds',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new MedallionError(`the backup manifest is not JSON: ${(error as Error).message}`, {
      context: { file },
      hint: 'the backup is damaged: restore another one (see --list)',
    });
  }
  const checked = manifestSchema.safeParse(parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new MedallionError(
      `the backup manifest is not one medallion wrote: ${issue?.path.join('.') || '(top)'}: ${issue?.message}`,
      { context: { file }, hint: 'the backup is damaged: restore another one (see --list)' },
    );
  }
  return checked.data;
}

/** Written last: from then on the backup exists. */
export async function writeManifest(location: ObjectStore, manifest: Manifest): Promise<void> {
  await location.putIfAbsent(manifestKey(manifest.id), JSON.stringify(manifest, null, 1));
}
