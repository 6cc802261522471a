import type { Dirent } from 'node:fs';
import { readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** What one directory entry is to a local store's listing. */
export type LocalEntry =
  | { kind: 'file' }
  /** `real`: its real path, to tell a link that leads back into the walk. */
  | { kind: 'directory'; real: string }
  /** A symbolic link the store does not follow, and why. */
  | { kind: 'refused'; reason: string }
  /** A socket, a FIFO, a device: never an object. */
  | { kind: 'other' };

/** Where a listing stands: the store's root and the directories it is inside, all as real paths. */
export interface WalkPlace {
  /** The real path of the store's root. */
  root: string;
  /** Where the store is, as the user named it, for messages. */
  location: string;
  /** The real path of the directory holding the entry. */
  parent: string;
  /** The real paths of that directory and every one above it in the walk. */
  within: ReadonlySet<string>;
}

/**
 * A symbolic link is followed only when its real target is inside the store's root, exists, and is not a
 * directory the walk is already in (which would list it forever): a source folder may gather its files with links,
 * but a link to `/etc/passwd` must not bring that file into a lake.
 */
export async function localEntry(full: string, entry: Dirent, place: WalkPlace): Promise<LocalEntry> {
  if (entry.isFile()) return { kind: 'file' };
  if (entry.isDirectory()) return { kind: 'directory', real: path.join(place.parent, entry.name) };
  return entry.isSymbolicLink() ? followLink(full, place) : { kind: 'other' };
}

async function followLink(link: string, place: WalkPlace): Promise<LocalEntry> {
  let real: string;
  try {
    real = await realpath(link);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const target = await readlink(link);
    if (code === 'ENOENT') return { kind: 'refused', reason: `symlink to ${target} points to nothing` };
    if (code === 'ELOOP') return { kind: 'refused', reason: `symlink to ${target} loops` };
    throw error;
  }
  if (!isInside(place.root, real)) {
    return { kind: 'refused', reason: `symlink to ${real} points outside ${place.location}` };
  }
  const info = await stat(real);
  if (info.isFile()) return { kind: 'file' };
  if (!info.isDirectory()) return { kind: 'other' };
  if (place.within.has(real)) {
    return { kind: 'refused', reason: `symlink to ${real} loops: it leads back to a directory it is in` };
  }
  return { kind: 'directory', real };
}

export function isInside(root: string, real: string): boolean {
  return real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/** The real paths of `dir` and of every directory above it up to `root` (both real paths). */
export function directoriesFrom(root: string, dir: string): Set<string> {
  const within = new Set<string>();
  for (let current = dir; isInside(root, current); current = path.dirname(current)) {
    within.add(current);
    if (current === root) break;
  }
  return within;
}
