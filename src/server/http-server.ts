/** The API's Node server: plain HTTP, or HTTPS with a certificate and key (`--tls-cert`, `--tls-key`). */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { ConfigError, describeError } from '../core/errors.js';

export interface ListenOptions {
  host: string;
  port: number;
  tls?: { cert: string; key: string };
}

export interface RunningServer {
  server: Server;
  address: AddressInfo;
  /** `http://127.0.0.1:8080`. */
  url: string;
  close(): void;
}

async function tlsOptions(tls: { cert: string; key: string }): Promise<{ cert: Buffer; key: Buffer }> {
  const read = async (file: string, field: string) => {
    try {
      return await readFile(file);
    } catch (error) {
      throw new ConfigError(`cannot read ${file}: ${describeError(error)}`, { context: { field } });
    }
  };
  return { cert: await read(tls.cert, '--tls-cert'), key: await read(tls.key, '--tls-key') };
}

/** Listens with `fetch` answering every request; refuses a port in use at once. */
export async function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  options: ListenOptions,
): Promise<RunningServer> {
  const listener = getRequestListener(fetch);
  const server: Server = options.tls
    ? createTlsServer(await tlsOptions(options.tls), listener)
    : createServer(listener);
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed = false;
  return {
    server,
    address,
    url: `${options.tls ? 'https' : 'http'}://${host}:${address.port}`,
    close() {
      if (closed) return;
      closed = true;
      server.close();
      server.closeAllConnections();
    },
  };
}
