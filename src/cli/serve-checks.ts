/**
 * What `medallion serve` checks before it answers anyone: a token chosen by hand that is hard to guess, and an
 * address that does not put that token on the network in clear text without saying so.
 */
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../core/errors.js';

/** The length of `openssl rand -base64 24`, 192 random bits: beyond guessing over the network. */
export const MIN_API_TOKEN_LENGTH = 32;

const TOKEN_HINT =
  'make one with `openssl rand -base64 32`, or unset MEDALLION_API_TOKEN to have serve make one up and print it';

/**
 * The token from MEDALLION_API_TOKEN, refused when short or holding whitespace (a paste gone wrong, and a
 * `Bearer` header cannot carry it). The message never repeats the token.
 */
export function checkApiToken(token: string): string {
  if (/\s/.test(token)) {
    throw new ConfigError('holds whitespace, which a bearer token cannot carry', {
      context: { field: 'MEDALLION_API_TOKEN' },
      hint: TOKEN_HINT,
    });
  }
  if (token.length < MIN_API_TOKEN_LENGTH) {
    throw new ConfigError(
      `is ${token.length} characters long; at least ${MIN_API_TOKEN_LENGTH} are needed to resist guessing`,
      { context: { field: 'MEDALLION_API_TOKEN' }, hint: TOKEN_HINT },
    );
  }
  return token;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, ::1 (also written as an IPv4-mapped address) and the name localhost. */
export function isLoopback(host: string): boolean {
  const name = host.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (name.toLowerCase() === 'localhost') return true;
  const family = isIP(name);
  return family !== 0 && loopback.check(name, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * A warning when the API listens beyond this machine: it speaks plain HTTP, so the token travels unencrypted.
 * `address` is the one bound (a host name resolved), `host` the flag as given.
 */
export function plainHttpWarning(host: string, address: string): string | undefined {
  if (isLoopback(address)) return undefined;
  return (
    `medallion serve: warning: --host ${host} listens on ${address}, not a loopback address, over plain HTTP: ` +
    'the bearer token and the answers cross the network unencrypted; keep --host 127.0.0.1 behind a proxy ' +
    'that terminates TLS'
  );
}
