import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { storeSettings } from '../project/locations.js';
import { changes, processesMarked, RUN_MARKER, snapshot, watchedPlaces } from './sandbox.js';

const scratch: string[] = [];
afterAll(() => Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-sandbox-test-'));
  scratch.push(dir);
  return dir;
}

/** Whether the process runs (a zombie waiting for its parent to reap it does not). */
async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

describe('the sandbox snapshot', () => {
  it('reports files added, changed and removed, and none of the skipped directories', async () => {
    const root = await tempDir();
    await mkdir(path.join(root, 'kept'));
    await mkdir(path.join(root, 'dist'));
    await writeFile(path.join(root, 'kept', 'same.txt'), 'same');
    await writeFile(path.join(root, 'changed.txt'), 'before');
    await writeFile(path.join(root, 'removed.txt'), 'gone soon');
    const place = { label: 'a checkout', root, skip: ['dist'] };
    const before = await snapshot(place);

    await writeFile(path.join(root, 'changed.txt'), 'after, and longer');
    await rm(path.join(root, 'removed.txt'));
    await mkdir(path.join(root, '.medallion'));
    await writeFile(path.join(root, '.medallion', 'metadata.db'), '');
    await writeFile(path.join(root, 'dist', 'main.js'), 'built');
    // A file a test makes and removes again leaves no trace (only its directory's time changed).
    await writeFile(path.join(root, 'kept', 'brief.txt'), '');
    await rm(path.join(root, 'kept', 'brief.txt'));

    const found = changes(before, await snapshot(place));
    expect(found.map((line) => line.split(' (')[0])).toEqual([
      '+ .medallion/',
      '+ .medallion/metadata.db',
      '~ changed.txt',
      '- removed.txt',
    ]);
    expect(found[2]).toMatch(/^~ changed\.txt \(6 bytes, .* → 17 bytes, /);
  });

  it('finds nothing under a place that does not exist', async () => {
    const place = { label: 'none', root: path.join(await tempDir(), 'absent'), skip: [] };
    expect(await snapshot(place)).toEqual(new Map());
  });

  it("watches the directory where medallion caches S3 objects by default, and the checkout's .medallion", () => {
    const places = watchedPlaces(process.cwd());
    const watches = (file: string) =>
      places.some(({ root, skip }) => {
        const relative = path.relative(root, file);
        return !relative.startsWith('..') && !skip.includes(relative.split(path.sep)[0] ?? '');
      });
    expect(watches(storeSettings({}).cacheDir)).toBe(true);
    expect(watches(path.resolve('.medallion', 'metadata.db'))).toBe(true);
    expect(watches(path.resolve('dist', 'cli', 'main.js'))).toBe(false);
  });
});

describe('the test run', () => {
  it('gives every test a temp directory and an S3 cache of the run, which the guard removes at the end', () => {
    const run = process.env[RUN_MARKER];
    expect(run).toMatch(/^medallion-tests-/);
    expect(os.tmpdir()).toContain(run);
    expect(process.env.MEDALLION_CACHE_DIR).toContain(run);
  });

  it('finds a process a test started and left running, by the marker it inherited', async () => {
    const marker = `probe-${process.pid}-${Date.now()}`;
    const child = spawn('sleep', ['30'], { env: { ...process.env, [RUN_MARKER]: marker }, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      expect(await processesMarked(RUN_MARKER, marker, -1)).toEqual([
        { pid: child.pid, command: 'sleep 30' },
      ]);
      // vitest's own workers are the direct children of its main process: never reported.
      expect(await processesMarked(RUN_MARKER, marker, process.pid)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(await processesMarked(RUN_MARKER, marker, -1)).toEqual([]);
  });
});

describe('the guard', () => {
  /** Runs vitest with this repository's config on a throwaway checkout holding one test file. */
  async function vitestOn(
    test: string,
  ): Promise<{ code: number; output: string; home: string; checkout: string }> {
    const dir = await tempDir();
    const checkout = path.join(dir, 'checkout');
    const home = path.join(dir, 'home');
    await mkdir(path.join(checkout, 'src'), { recursive: true });
    await mkdir(home);
    await symlink(path.resolve('node_modules'), path.join(checkout, 'node_modules'));
    await writeFile(path.join(checkout, 'src', 'probe.test.ts'), test);
    // This run's VITEST_* variables would make the inner vitest think it is one of our workers.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')),
    );
    const vitest = path.resolve('node_modules', 'vitest', 'vitest.mjs');
    const args = [vitest, 'run', '--root', checkout, '--config', path.resolve('vitest.config.ts')];
    const result = await promisify(execFile)(process.execPath, args, {
      cwd: checkout,
      env: { ...env, HOME: home },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        output: error.stdout + error.stderr,
      }),
    );
    return { ...result, home, checkout };
  }

  it('fails the run, naming each file, when a test writes into the checkout or the user cache or leaves a process', async () => {
    const { code, output } = await vitestOn(`
      import { spawn } from 'node:child_process';
      import { mkdirSync, writeFileSync } from 'node:fs';
      import os from 'node:os';
      import path from 'node:path';
      import { it } from 'vitest';
      it('leaves traces', () => {
        writeFileSync('notes.txt', 'a test wrote me');
        mkdirSync('.medallion');
        writeFileSync(path.join('.medallion', 'metadata.db'), '');
        const cache = path.join(os.homedir(), '.cache', 'medallion', 'objects');
        mkdirSync(cache, { recursive: true });
        writeFileSync(path.join(cache, 'object'), '');
        const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
        child.unref();
        console.log('left pid ' + child.pid);
      });
    `);
    expect(code, output).toBe(1);
    expect(output).toContain('1 passed');
    expect(output).toMatch(
      /tests wrote outside their temp directories:\n {2}the checkout .*:\n {4}\+ \.medallion\/\n {4}\+ \.medallion\/metadata\.db\n {4}\+ notes\.txt\n/,
    );
    expect(output).toMatch(/ {2}the user's medallion cache .*:\n {4}\+ objects\/\n {4}\+ objects\/object\n/);
    const pid = Number(/left pid (\d+)/.exec(output)?.[1]);
    expect(output).toMatch(
      new RegExp(`tests left processes running \\(killed now\\):\\n {4}${pid} sleep 60\\n`),
    );
    expect(await running(pid)).toBe(false);
  });

  it('passes a run whose tests write only into their temp directories, and removes those', async () => {
    const { code, output } = await vitestOn(`
      import { mkdirSync, writeFileSync } from 'node:fs';
      import os from 'node:os';
      import path from 'node:path';
      import { it } from 'vitest';
      it('keeps to its sandbox', () => {
        writeFileSync(path.join(os.tmpdir(), 'scratch.txt'), '');
        mkdirSync(process.env.MEDALLION_CACHE_DIR, { recursive: true });
        writeFileSync(path.join(process.env.MEDALLION_CACHE_DIR, 'object'), '');
        console.log('sandbox ' + path.dirname(os.tmpdir()));
      });
    `);
    expect(code, output).toBe(0);
    expect(output).not.toContain('medallion test sandbox');
    const sandbox = /sandbox (\S+)/.exec(output)?.[1] ?? '';
    expect(sandbox).toContain('medallion-tests-');
    expect(await readFile(path.join(sandbox, 'tmp', 'scratch.txt')).catch(() => 'removed')).toBe('removed');
  });
});
