import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { medallion, MEDALLION_CLI } from '../testing/medallion-cli.js';

let dir: string;
let db: string[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-users-'));
  db = ['--db', `sqlite:${path.join(dir, 'metadata.db')}`];
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** `medallion ARGS` with `input` on its standard input. */
function withInput(
  args: string[],
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MEDALLION_CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('medallion users and tokens', () => {
  it('adds users with a password from standard input (hashed), changes roles, and keeps the last admin', async () => {
    const added = await withInput(
      ['users', 'add', 'ann', '--role', 'admin', '--password-stdin', ...db],
      'correct horse battery\n',
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('added ann (admin)');
    const short = await withInput(
      ['users', 'add', 'bob', '--role', 'viewer', '--password-stdin', ...db],
      'short\n',
    );
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('password: a password has at least 12 characters');
    expect(
      (await withInput(['users', 'add', 'bob', '--role', 'viewer', ...db], 'another long password\n')).code,
    ).toBe(0);
    expect((await medallion(['users', 'add', 'eve', '--role', 'root', ...db])).code).toBe(2);

    const list = JSON.parse((await medallion(['users', 'list', '--json', ...db])).stdout) as {
      name: string;
      role: string;
    }[];
    expect(list.map((user) => [user.name, user.role])).toEqual([
      ['ann', 'admin'],
      ['bob', 'viewer'],
    ]);
    expect(JSON.stringify(list)).not.toMatch(/argon2|password/i);
    // The database keeps an argon2id hash, never the password.
    const bytes = await readFile(path.join(dir, 'metadata.db'));
    expect(bytes.includes('correct horse battery')).toBe(false);
    expect(bytes.includes('$argon2id$')).toBe(true);

    const demote = await medallion(['users', 'set-role', 'ann', 'viewer', ...db]);
    expect(demote.code).toBe(2);
    expect(demote.stderr).toContain('ann is the last admin');
    expect((await medallion(['users', 'set-role', 'bob', 'operator', ...db])).code).toBe(0);
    expect((await medallion(['users', 'remove', 'ann', ...db])).code).toBe(2);
    expect((await medallion(['users', 'remove', 'bob', ...db])).code).toBe(0);
  });

  it('makes a token shown once, lists it without its secret, and revokes it', async () => {
    const made = await medallion(['tokens', 'add', 'ci', '--user', 'ann', '--expires', '30d', ...db]);
    expect(made.code, made.stderr).toBe(0);
    const token = made.stdout.trim();
    expect(token).toMatch(/^mdl_[0-9a-f]{16}_[\w-]{43}$/);
    expect(made.stderr).toContain('shown only this once');
    const listed = await medallion(['tokens', 'list', ...db]);
    expect(listed.stdout).toMatch(/ann\s+ci/);
    expect(listed.stdout).not.toContain(token.slice(21));
    const id = token.slice(4, 20);
    expect((await medallion(['tokens', 'revoke', id, ...db])).code).toBe(0);
    expect((await medallion(['tokens', 'list', '--json', ...db])).stdout).toMatch(/"revokedAt": "20/);
  });
});
