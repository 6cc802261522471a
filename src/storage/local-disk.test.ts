import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalDiskStore } from './local-disk.js';
import { describeObjectStoreConformance } from './object-store.conformance.js';

describeObjectStoreConformance('LocalDiskStore', {
  open: async () => new LocalDiskStore(await mkdtemp(path.join(tmpdir(), 'medallion-local-store-'))),
  close: (store) => rm(store.location, { recursive: true, force: true }),
});
