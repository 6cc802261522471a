/**
 * The files of a backup location, each stored once under its SHA-256 whatever lake, table or backup it came
 * from, so a backup copies only what no earlier one holds; and checked against that checksum when read back.
 */
import { MedallionError } from '../core/errors.js';
import { ObjectNotFoundError, type ObjectStore } from '../storage/object-store.js';
import { objectKey } from './manifest.js';

const HINT =
  'restore another backup (`medallion restore --from LOCATION --list` shows them), or copy that file back from a ' +
  'good copy of the backup location';

/** A file a backup needs is missing, or its bytes are not those the manifest recorded. */
export class BackupDamagedError extends MedallionError {}

export class BackupObjects {
  private held: Promise<Set<string>> | undefined;
  private readonly storing = new Map<string, Promise<void>>();

  constructor(readonly location: ObjectStore) {}

  /** Whether the location holds the file of this checksum (listed once, then kept up to date). */
  async has(sha256: string): Promise<boolean> {
    return (await this.heldObjects()).has(sha256);
  }

  private heldObjects(): Promise<Set<string>> {
    this.held ??= this.location
      .list('objects/')
      .then((objects) => new Set(objects.map((object) => object.key.slice(object.key.lastIndexOf('/') + 1))));
    return this.held;
  }

  /**
   * Stores the local file under its checksum unless the location holds it already (or another call is storing
   * the same bytes now); true when this call copied it.
   */
  async add(localPath: string, sha256: string): Promise<boolean> {
    const held = await this.heldObjects();
    const storing = this.storing.get(sha256);
    if (held.has(sha256) || storing) {
      await storing;
      return false;
    }
    const stored = this.location.putFile(localPath, objectKey(sha256)).then(() => {
      held.add(sha256);
    });
    this.storing.set(sha256, stored);
    try {
      await stored;
    } finally {
      this.storing.delete(sha256);
    }
    return true;
  }

  /**
   * A local path holding the file of this checksum, its bytes checked; a BackupDamagedError naming the file and
   * what it holds (`holds`, for the message) when it is missing or its bytes differ.
   */
  async verified(sha256: string, holds: string): Promise<string> {
    const key = objectKey(sha256);
    const file = `${this.location.location}/${key}`;
    let found: { path: string; sha256: string };
    try {
      found = await this.location.localPathAndSha256(key);
    } catch (error) {
      if (!(error instanceof ObjectNotFoundError)) throw error;
      throw new BackupDamagedError(`the backup file holding ${holds} is missing`, {
        context: { file },
        hint: HINT,
      });
    }
    if (found.sha256 !== sha256) {
      throw new BackupDamagedError(
        `the backup file holding ${holds} is damaged: its SHA-256 is ${found.sha256}, the manifest says ${sha256}`,
        { context: { file }, hint: HINT },
      );
    }
    return found.path;
  }
}
