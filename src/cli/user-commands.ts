/**
 * `medallion users` and `medallion tokens`: who may sign in to `serve`, with which role, and their personal API
 * tokens. A password is read from a prompt (not echoed) or standard input, never from a flag.
 */
import { createInterface } from 'node:readline';
import {
  addUser,
  createToken,
  listTokens,
  listUsers,
  removeUser,
  revokeToken,
  setPassword,
  setRole,
} from '../app/users.js';
import { ConfigError } from '../core/errors.js';
import { parseDuration } from '../core/schedule.js';
import { note, print, when } from './output.js';
import { withApp, type StoreFlags } from './project-context.js';
import { table } from './render.js';

interface PasswordFlags extends StoreFlags {
  passwordStdin?: boolean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** One line typed at the terminal, not shown. */
function ask(question: string): Promise<string> {
  return new Promise((resolve) => {
    const prompt = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const output = prompt as unknown as { _writeToOutput(text: string): void };
    let asked = false;
    output._writeToOutput = (text: string) => {
      if (!asked) {
        process.stderr.write(text);
        asked = true;
      }
    };
    prompt.question(question, (answer) => {
      prompt.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

async function passwordOf(flags: PasswordFlags): Promise<string> {
  if (flags.passwordStdin || !process.stdin.isTTY) return readStdin();
  const first = await ask('password: ');
  const again = await ask('the same again: ');
  if (first !== again) throw new ConfigError('the two passwords differ', { context: { field: 'password' } });
  return first;
}

export async function addUserCommand(name: string, flags: PasswordFlags & { role: string }): Promise<void> {
  await withApp(flags, async (ctx) => {
    const user = await addUser(ctx.store, { name, role: flags.role, password: await passwordOf(flags) });
    print(flags.json, user, () => `added ${user.name} (${user.role}): they sign in to \`medallion serve\``);
  });
}

export async function listUsersCommand(flags: StoreFlags): Promise<void> {
  await withApp(flags, async (ctx) => {
    const users = await listUsers(ctx.store);
    print(flags.json, users, () =>
      users.length === 0
        ? 'no users (add one with `medallion users add NAME --role admin`)'
        : table(
            ['user', 'role', 'state', 'since'],
            users.map((user) => [
              user.name,
              user.role,
              user.disabled ? 'disabled' : 'active',
              when(user.createdAt),
            ]),
            ['role', 'state'],
          ),
    );
  });
}

export async function setRoleCommand(name: string, role: string, flags: StoreFlags): Promise<void> {
  await withApp(flags, async (ctx) => {
    const user = await setRole(ctx.store, name, role);
    print(flags.json, user, () => `${user.name} is ${user.role} (their sessions ended: they sign in again)`);
  });
}

export async function setPasswordCommand(name: string, flags: PasswordFlags): Promise<void> {
  await withApp(flags, async (ctx) => {
    await setPassword(ctx.store, name, await passwordOf(flags));
    note(`changed the password of ${name} (their sessions ended)`);
  });
}

export async function removeUserCommand(name: string, flags: StoreFlags): Promise<void> {
  await withApp(flags, async (ctx) => {
    await removeUser(ctx.store, name);
    note(`removed ${name}, their sessions and tokens`);
  });
}

export async function addTokenCommand(
  name: string,
  flags: StoreFlags & { user: string; expires?: string },
): Promise<void> {
  await withApp(flags, async (ctx) => {
    const expiresAt = flags.expires
      ? new Date(Date.now() + parseDuration(flags.expires, '--expires'))
      : undefined;
    const made = await createToken(ctx.store, {
      user: flags.user,
      name,
      ...(expiresAt && { expiresAt }),
    });
    print(flags.json, made, () => made.token);
    note(
      `made token ${made.record.id} (${name}) for ${flags.user}: it is shown only this once; ` +
        'send it as `Authorization: Bearer <token>`',
    );
  });
}

export async function listTokensCommand(flags: StoreFlags & { user?: string }): Promise<void> {
  await withApp(flags, async (ctx) => {
    const tokens = await listTokens(ctx.store, flags.user);
    print(flags.json, tokens, () =>
      tokens.length === 0
        ? 'no tokens'
        : table(
            ['id', 'user', 'name', 'made', 'last used', 'expires', 'revoked'],
            tokens.map((token) => [
              token.id,
              token.userName,
              token.name,
              when(token.createdAt),
              when(token.lastUsedAt),
              when(token.expiresAt),
              when(token.revokedAt),
            ]),
            ['user', 'name'],
          ),
    );
  });
}

export async function revokeTokenCommand(id: string, flags: StoreFlags): Promise<void> {
  await withApp(flags, async (ctx) => {
    await revokeToken(ctx.store, id);
    note(`revoked token ${id}`);
  });
}
