import { describe, expect, it } from 'vitest';
import { isLoopback, plainHttpWarning } from './serve-checks.js';

describe('the listening address check', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    '127.255.255.255',
    '::1',
    '[::1]',
    '::ffff:127.0.0.1',
    'localhost',
    'LocalHost.',
  ])('takes %s for loopback, with no warning', (host) => {
    expect(isLoopback(host)).toBe(true);
    expect(plainHttpWarning(host, host)).toBeUndefined();
  });

  it.each([
    '0.0.0.0',
    '::',
    '10.0.0.5',
    '128.0.0.1',
    '192.168.1.2',
    '::2',
    'example.com',
    'localhost.example.com',
  ])('warns about %s, which is not loopback', (host) => {
    expect(isLoopback(host)).toBe(false);
    expect(plainHttpWarning(host, host)).toMatch(
      /warning: --host .* not a loopback address, over plain HTTP/,
    );
  });

  it('judges the address bound, not the name given', () => {
    expect(plainHttpWarning('my-laptop', '127.0.1.1')).toBeUndefined();
    expect(plainHttpWarning('my-laptop', '192.168.1.2')).toContain('--host my-laptop listens on 192.168.1.2');
  });
});
