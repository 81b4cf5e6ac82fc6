import { describe, expect, it } from 'vitest';
import { createTokenCheck, presentedToken, tokenInQuery } from '../../../src/api/auth.js';

const token = 'a'.repeat(20) + 'Z9';
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('presentedToken', () => {
  it('reads a bearer token, a basic password (any user) or the reachscan_token cookie', () => {
    expect(presentedToken({ authorization: `Bearer ${token}` })).toBe(token);
    expect(presentedToken({ authorization: `bearer   ${token}` })).toBe(token);
    expect(presentedToken({ authorization: basic('ops', token) })).toBe(token);
    expect(presentedToken({ authorization: basic('', 'with:colon') })).toBe('with:colon');
    expect(presentedToken({ cookie: `a=1; reachscan_token=${encodeURIComponent(token)}; b=2` })).toBe(token);
  });

  it('finds nothing in other schemes, empty values or other cookies', () => {
    expect(presentedToken({})).toBeNull();
    expect(presentedToken({ authorization: 'Bearer' })).toBeNull();
    expect(presentedToken({ authorization: `Token ${token}` })).toBeNull();
    expect(
      presentedToken({ authorization: `Basic ${Buffer.from('nocolon').toString('base64')}` }),
    ).toBeNull();
    expect(presentedToken({ cookie: `my_reachscan_token=${token}` })).toBeNull();
    // An Authorization header wins over the cookie, even a wrong one.
    expect(presentedToken({ authorization: 'Bearer wrong', cookie: `reachscan_token=${token}` })).toBe(
      'wrong',
    );
  });
});

describe('createTokenCheck', () => {
  it('accepts the token and nothing else (prefixes, longer, empty, null)', () => {
    const check = createTokenCheck(token);
    expect(check(token)).toBe(true);
    for (const other of [token.slice(0, -1), `${token}x`, token.toLowerCase(), '', ' ' + token]) {
      expect(check(other)).toBe(false);
    }
    expect(check(null)).toBe(false);
  });
});

describe('tokenInQuery', () => {
  it('names a query parameter that carries a token, whatever its case or place', () => {
    expect(tokenInQuery('/metrics?token=abc')).toBe('token');
    expect(tokenInQuery('/batches?rate=5&Access_Token=abc')).toBe('access_token');
    expect(tokenInQuery('/x?api_key=')).toBe('api_key');
    expect(tokenInQuery('/x?apikey=1&token=2')).toBe('apikey');
  });

  it('finds nothing in a URL without one (options, a path that says token)', () => {
    expect(tokenInQuery('/metrics')).toBeNull();
    expect(tokenInQuery('/batches?rate=5&column=token')).toBeNull();
    expect(tokenInQuery('/token?x=1')).toBeNull();
    expect(tokenInQuery('/x?tokens=1')).toBeNull();
  });
});
