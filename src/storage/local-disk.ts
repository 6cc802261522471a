import { constants } from 'node:fs';
import { copyFile, link, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ObjectExistsError, type ObjectInfo, type ObjectStore } from './object-store.js';

/** The embedded default: objects are files under one root directory. */
export class LocalDiskStore implements ObjectStore {
  readonly location: string;

  constructor(root: string) {
    this.location = path.resolve(root);
  }

  private resolve(key: string): string {
    const resolved = path.resolve(this.location, key);
    if (resolved !== this.location && !resolved.startsWith(this.location + path.sep)) {
      throw new Error(`object key escapes the store root: ${key}`);
    }
    return resolved;
  }

  async get(key: string): Promise<Buffer> {
    return readFile(this.resolve(key));
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const target = this.resolve(key);
    await mkdir(path.dirname(target), { recursive: true });
    // Write beside the target then rename, so a reader never sees half an object.
    const temp = `${target}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temp, body);
    await rename(temp, target);
  }

  async putIfAbsent(key: string, body: Buffer | string): Promise<void> {
    const target = this.resolve(key);
    await mkdir(path.dirname(target), { recursive: true });
    // Write the bytes under a private name, then link it into place: link(2) fails when the
    // target exists, so the object appears whole or not at all, and only one writer wins.
    const temp = `${target}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temp, body);
    try {
      await link(temp, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ObjectExistsError(key);
      throw error;
    } finally {
      await rm(temp, { force: true });
    }
  }

  async putFile(localPath: string, key: string, options: { move?: boolean } = {}): Promise<void> {
    const target = this.resolve(key);
    await mkdir(path.dirname(target), { recursive: true });
    if (options.move) {
      try {
        await rename(localPath, target);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      }
    }
    const temp = `${target}.${process.pid}.${Date.now()}.tmp`;
    await copyFile(localPath, temp, constants.COPYFILE_FICLONE);
    await rename(temp, target);
    if (options.move) await rm(localPath, { force: true });
  }

  async localPath(key: string): Promise<string> {
    const target = this.resolve(key);
    await stat(target);
    return target;
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.resolve(key));
      return true;
    } catch {
      return false;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const found: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          await walk(full);
        } else if (entry.isFile() && !entry.name.endsWith('.tmp')) {
          const key = path.relative(this.location, full).split(path.sep).join('/');
          if (key.startsWith(prefix)) {
            const info = await stat(full);
            found.push({ key, size: info.size, lastModified: info.mtime });
          }
        }
      }
    };
    // Walk only the directory the prefix names, not the whole store.
    const slash = prefix.lastIndexOf('/');
    await walk(this.resolve(slash >= 0 ? prefix.slice(0, slash) : '.'));
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => rm(this.resolve(key), { force: true })));
  }
}
