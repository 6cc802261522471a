import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDiskStore } from './local-disk.js';

let dir: string;
/** The real path of a directory outside the store, holding `secret.csv`. */
let outside: string;

beforeAll(async () => {
  dir = await realpath(await mkdtemp(path.join(tmpdir(), 'medallion-links-')));
  outside = path.join(dir, 'outside');
  await mkdir(outside);
  await writeFile(path.join(outside, 'secret.csv'), 'not yours\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A store over a fresh directory holding `files` and the symbolic links `links` (name → target). */
async function storeWith(
  name: string,
  files: Record<string, string>,
  links: Record<string, string>,
): Promise<LocalDiskStore> {
  const root = path.join(dir, name);
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), content);
  }
  for (const [link, target] of Object.entries(links)) {
    await mkdir(path.dirname(path.join(root, link)), { recursive: true });
    await symlink(target, path.join(root, link));
  }
  return new LocalDiskStore(root);
}

const keys = (objects: { key: string }[]): string[] => objects.map((object) => object.key);

describe('LocalDiskStore listings and symbolic links', () => {
  it('follows a link to a file or a directory inside its root, listing what it leads to under the link', async () => {
    const store = await storeWith(
      'inside',
      { 'data/a.csv': 'a\n', 'archive/2022/b.csv': 'b\n' },
      { 'a-link.csv': 'data/a.csv', 'data/old': '../archive' },
    );
    const listing = await store.listChecked('');
    expect(keys(listing.objects)).toEqual([
      'a-link.csv',
      'archive/2022/b.csv',
      'data/a.csv',
      'data/old/2022/b.csv',
    ]);
    expect(listing.refused).toEqual([]);
    expect((await store.get('a-link.csv')).toString()).toBe('a\n');
    expect(listing.objects[0]?.size).toBe(2);
    expect(keys(await store.list('data/'))).toEqual(['data/a.csv', 'data/old/2022/b.csv']);
    expect(await store.listDelimited('data/')).toMatchObject({ prefixes: ['data/old/'] });
  });

  it('skips a link to a file outside its root, with the reason, and never lists that file', async () => {
    const store = await storeWith('file-out', { 'ok.csv': 'ok\n' }, { 'passwd.csv': '/etc/passwd' });
    const listing = await store.listChecked('');
    expect(keys(listing.objects)).toEqual(['ok.csv']);
    expect(listing.refused).toEqual([
      { key: 'passwd.csv', reason: `symlink to /etc/passwd points outside ${store.location}` },
    ]);
    expect(keys(await store.list(''))).toEqual(['ok.csv']);
    expect((await store.listDelimited('')).objects.map((object) => object.key)).toEqual(['ok.csv']);
  });

  it('skips a link to a directory outside its root, listing none of its files, also when listed through it', async () => {
    const store = await storeWith('dir-out', { 'ok.csv': 'ok\n' }, { 'more/elsewhere': '../../outside' });
    const listing = await store.listChecked('');
    expect(keys(listing.objects)).toEqual(['ok.csv']);
    expect(listing.refused).toEqual([
      { key: 'more/elsewhere', reason: `symlink to ${outside} points outside ${store.location}` },
    ]);
    expect(await store.listChecked('more/elsewhere/')).toEqual({
      objects: [],
      refused: [{ key: 'more/elsewhere', reason: `symlink to ${outside} points outside ${store.location}` }],
    });
    expect(await store.listDelimited('more/')).toEqual({ objects: [], prefixes: [] });
  });

  it('skips a dangling link and links that loop, each with the reason', async () => {
    const store = await storeWith(
      'broken',
      { 'sub/ok.csv': 'ok\n' },
      { 'gone.csv': 'nothing-here.csv', 'self.csv': 'self.csv', 'sub/up': '..' },
    );
    const listing = await store.listChecked('');
    expect(keys(listing.objects)).toEqual(['sub/ok.csv']);
    expect(listing.refused).toEqual([
      { key: 'gone.csv', reason: 'symlink to nothing-here.csv points to nothing' },
      { key: 'self.csv', reason: 'symlink to self.csv loops' },
      { key: 'sub/up', reason: `symlink to ${store.location} loops: it leads back to a directory it is in` },
    ]);
  });
});
