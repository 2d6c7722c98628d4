import { describe, expect, it } from '@jest/globals';
import {
  admits,
  HOST_PATTERN_RE,
  isEgressDestination,
  isPublicAddress,
  isRawIp,
  matchesHost,
  parseTarget,
} from '../../src/core/egress-hosts.js';

describe('egress host matching (executor.network_allow)', () => {
  it('exact names match case-insensitively, a trailing dot ignored', () => {
    expect(matchesHost('api.example.com', 'API.Example.com.')).toBe(true);
    expect(matchesHost('api.example.com', 'evil-api.example.com')).toBe(false);
    expect(matchesHost('api.example.com', 'api.example.com.evil.net')).toBe(false);
  });

  it('*.suffix matches sub-domains only, never the bare suffix or a look-alike', () => {
    expect(matchesHost('*.example.com', 'a.b.example.com')).toBe(true);
    expect(matchesHost('*.example.com', 'example.com')).toBe(false);
    expect(matchesHost('*.example.com', 'evilexample.com')).toBe(false);
  });

  it('raw IPs in every spelling a resolver takes are recognised', () => {
    for (const ip of ['127.0.0.1', '[::1]', '::1', '2130706433', '0x7f000001', '127.1', '10.0.0.1.']) {
      expect(isRawIp(ip)).toBe(true);
    }
    for (const name of ['api.example.com', 'localhost', '1password.com']) expect(isRawIp(name)).toBe(false);
  });

  it('admits only listed names on 443 and 80', () => {
    const allow = ['api.example.test', '*.cdn.test'];
    expect(admits(allow, 'api.example.test', 443)).toEqual({ ok: true });
    expect(admits(allow, 'x.cdn.test', 80)).toEqual({ ok: true });
    expect(admits(allow, 'api.example.test', 22)).toMatchObject({ ok: false, why: /port 22/ });
    expect(admits(allow, 'other.test', 443)).toMatchObject({
      ok: false,
      why: /not in executor.network_allow/,
    });
    expect(admits(['*.0.1'], '127.0.0.1', 443)).toMatchObject({ ok: false, why: /raw IP/ });
    expect(admits(allow, 'a b', 443)).toMatchObject({ ok: false, why: /not a host name/ });
  });

  it('parses CONNECT authorities and absolute http URIs', () => {
    expect(parseTarget('api.example.test:443')).toEqual({ host: 'api.example.test', port: 443 });
    expect(parseTarget('[::1]:443')).toEqual({ host: '[::1]', port: 443 });
    expect(parseTarget('api.example.test')).toBeNull();
    expect(parseTarget('h:99999')).toBeNull();
    expect(parseTarget('http://u:p@Api.Example.test/x?y', 80)).toEqual({
      host: 'api.example.test',
      port: 80,
    });
    expect(parseTarget('http://h:8080/', 80)).toEqual({ host: 'h', port: 8080 });
    expect(parseTarget('/relative', 80)).toBeNull();
  });

  it('config patterns: names and *.suffix, nothing else', () => {
    for (const ok of ['api.anthropic.com', '*.openai.com', 'localhost'])
      expect(HOST_PATTERN_RE.test(ok)).toBe(true);
    for (const bad of ['*', '*.', 'a*.b', 'http://x', 'x:443', ''])
      expect(HOST_PATTERN_RE.test(bad)).toBe(false);
  });

  it('resolved addresses: loopback, private, link-local (metadata), CGNAT and multicast are not public', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '192.0.2.2',
      '192.0.0.8',
      '198.18.0.1',
      '198.51.100.7',
      '203.0.113.9',
      '240.0.0.1',
    ]) {
      expect(isPublicAddress(a)).toBe(false);
    }
    for (const a of ['93.184.216.34', '172.32.0.1', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(isPublicAddress(a)).toBe(true);
    }
  });
});

describe('isEgressDestination', () => {
  it("refuses this machine's own addresses, public or not, and every non-public one", () => {
    const own = new Set(['93.184.216.34', '2606:4700::1111']);
    expect(isEgressDestination('93.184.216.34', own)).toBe(false);
    expect(isEgressDestination('2606:4700::1111', own)).toBe(false);
    expect(isEgressDestination('192.0.2.2', own)).toBe(false);
    expect(isEgressDestination('8.8.8.8', own)).toBe(true);
  });
});
