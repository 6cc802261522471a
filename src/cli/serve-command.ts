/**
 * `medallion serve`: the scheduler plus the web UI and its HTTP API (src/server), behind real sign-ins. No default
 * password: the first admin comes from `medallion users add`, MEDALLION_ADMIN_PASSWORD, or (`medallion demo
 * --serve`) a password made up and shown once.
 */
import type { LakeReader } from '../app/lake-reader.js';
import { ensureFirstAdmin } from '../app/users.js';
import { Authenticator } from '../auth/authenticator.js';
import { createApi } from '../server/api.js';
import { listen, type ListenOptions } from '../server/http-server.js';
import { lakeReaderFor } from '../server/routes/lake.js';
import { BUILT_UI_DIR } from '../server/routes/ui.js';
import { fail } from './exit.js';
import { startScheduler, type SchedulerFlags } from './orchestration.js';
import { note } from './output.js';
import { openProject } from './project-context.js';
import { plainHttpWarning } from './serve-checks.js';

export interface ServeFlags extends SchedulerFlags {
  port?: number;
  host?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** Where to listen: the flags, else the project file's `serve`, else 127.0.0.1:8080. */
async function listenOptions(flags: ServeFlags): Promise<ListenOptions> {
  const configured = (await openProject()).serve();
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    const { ConfigError } = await import('../core/errors.js');
    throw new ConfigError('give both --tls-cert and --tls-key, or neither', {
      context: { field: '--tls-cert' },
    });
  }
  return {
    host: flags.host ?? configured.host ?? '127.0.0.1',
    port: flags.port ?? configured.port ?? 8080,
    ...(flags.tlsCert && flags.tlsKey && { tls: { cert: flags.tlsCert, key: flags.tlsKey } }),
  };
}

/**
 * Serves until SIGINT/SIGTERM. `onFirstAdmin`: the password made up for the first admin (the demo shows it once);
 * without it, an empty database gets its first admin from MEDALLION_ADMIN_PASSWORD only.
 */
export async function serve(
  flags: ServeFlags,
  options: { makeUpFirstAdmin?: boolean; announce?: (url: string, madeUpPassword: boolean) => void } = {},
): Promise<void> {
  const where = await listenOptions(flags);
  let answer: (request: Request) => Response | Promise<Response> = () =>
    new Response(JSON.stringify({ error: 'starting' }), {
      status: 503,
      headers: { 'content-type': 'application/json', 'retry-after': '1' },
    });
  // Listening first: a port already taken ends the command before the scheduler claims any work.
  const running = await listen((request) => answer(request), where);
  const exposed = !where.tls && plainHttpWarning(where.host, running.address.address);
  if (exposed) note(exposed);
  // Registered before the scheduler's own handlers, so the API stops answering before its store closes.
  process.once('SIGINT', running.close);
  process.once('SIGTERM', running.close);
  let lakeReader: LakeReader | undefined;
  try {
    const { scheduler, store, project, done } = await startScheduler(flags, 'serve');
    const first = await ensureFirstAdmin(store, { makeUp: options.makeUpFirstAdmin ?? false });
    if (first?.password) {
      note(
        `medallion serve: sign in as ${first.name} with the password ${first.password} (shown only this once)`,
      );
    } else if (first) {
      note(
        `medallion serve: made the user ${first.name} (admin) with the password in MEDALLION_ADMIN_PASSWORD`,
      );
    } else if ((await store.listUsers()).length === 0) {
      note(
        'medallion serve: no user can sign in yet: add one with `medallion users add NAME --role admin`, ' +
          'or restart with MEDALLION_ADMIN_PASSWORD set',
      );
    }
    lakeReader = lakeReaderFor({ store, project });
    const api = createApi(
      {
        store,
        project,
        authenticator: new Authenticator(store),
        secure: where.tls !== undefined,
        uiDir: BUILT_UI_DIR,
        worker: scheduler.worker,
        startedAt: Date.now(),
        locations: { ...(flags.lake && { lake: flags.lake }), ...(flags.source && { source: flags.source }) },
        lakeReader,
      },
      { log: note },
    );
    answer = (request) => api.fetch(request);
    note(`medallion serve: listening on ${running.url}`);
    options.announce?.(running.url, first?.password !== undefined);
    await done;
  } finally {
    running.close();
    await lakeReader?.close();
  }
}

export async function serveCommand(flags: ServeFlags): Promise<void> {
  try {
    await serve(flags);
  } catch (error) {
    fail(error);
  }
}
