/**
 * What `medallion serve` checks before it answers anyone: an address that does not put sessions and tokens on the
 * network in clear text without saying so.
 */
import { BlockList, isIP } from 'node:net';

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
 * A warning when the API listens beyond this machine over plain HTTP: what signs in travels unencrypted.
 * `address` is the one bound (a host name resolved), `host` the flag as given.
 */
export function plainHttpWarning(host: string, address: string): string | undefined {
  if (isLoopback(address)) return undefined;
  return (
    `medallion serve: warning: --host ${host} listens on ${address}, not a loopback address, over plain HTTP: ` +
    'passwords, session cookies, API tokens and answers cross the network unencrypted; give --tls-cert and ' +
    '--tls-key, or keep --host 127.0.0.1 behind a proxy that terminates TLS'
  );
}
