import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createApplicationJwtSource } from '../../../../src/providers/auth/application-jwt.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const APP_ID = '3f1c2a4b-5d6e-4f70-8a9b-0c1d2e3f4a5b';

function fakeClock(start = Date.parse('2026-03-01T12:00:00Z')) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('application JWT', () => {
  it('carries the Vonage claims, RS256, and no acl', async () => {
    const clock = fakeClock();
    const source = createApplicationJwtSource({ applicationId: APP_ID, privateKey, clock: clock.now });
    const token = await source.get();
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(claims.application_id).toBe(APP_ID);
    expect(claims.iat).toBe(clock.now() / 1000);
    expect(claims.exp).toBe(clock.now() / 1000 + 900);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims).not.toHaveProperty('acl');
    await expect(jwtVerify(token, publicKey, { currentDate: new Date(clock.now()) })).resolves.toBeTruthy();
  });

  it('reuses one token until shortly before it expires, then signs a new one', async () => {
    const clock = fakeClock();
    const source = createApplicationJwtSource({ applicationId: APP_ID, privateKey, clock: clock.now });
    const first = await source.get();
    clock.advance(839_000); // 14 min – 1 s: still outside the 60 s margin
    expect(await source.get()).toBe(first);
    expect(source.signedCount).toBe(1);
    clock.advance(1_000); // 60 s before expiry
    const second = await source.get();
    expect(second).not.toBe(first);
    expect(decodeJwt(second).jti).not.toBe(decodeJwt(first).jti);
    expect(source.signedCount).toBe(2);
  });

  it('signs once when many callers ask at the same moment', async () => {
    const source = createApplicationJwtSource({ applicationId: APP_ID, privateKey, clock: fakeClock().now });
    const tokens = await Promise.all(Array.from({ length: 50 }, () => source.get()));
    expect(new Set(tokens).size).toBe(1);
    expect(source.signedCount).toBe(1);
  });

  it('refuses a lifetime over 24 hours or inside the refresh margin', () => {
    const base = { applicationId: APP_ID, privateKey, clock: fakeClock().now };
    expect(() => createApplicationJwtSource({ ...base, ttlSeconds: 86_401 })).toThrow(/24 h/);
    expect(() => createApplicationJwtSource({ ...base, ttlSeconds: 30 })).toThrow(/refresh margin/);
    expect(() => createApplicationJwtSource({ ...base, ttlSeconds: 86_400 })).not.toThrow();
  });
});
