/** How far a backup or a restore is, for the CLI's progress lines. */

/** The files of one lake (or, when a backup is checked, of the whole backup). */
export interface FilesProgress {
  lake: string;
  done: number;
  total: number;
  /** Files written so far (those already there with the same checksum are not). */
  copied: number;
  bytes: number;
}

/** A table of the metadata store, or files: copied into the lake or the backup, or checked. */
export type CopyProgress =
  { phase: 'metadata'; table: string; rows: number } | ({ phase: 'check' | 'files' } & FilesProgress);
