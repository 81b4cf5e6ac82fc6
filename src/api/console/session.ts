import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient } from '../../queue/connection.js';

/** The console's session cookie: HttpOnly, SameSite=Strict, a random id the server keeps in Redis. */
export const SESSION_COOKIE = 'reachscan_session';
/** How long a session lasts without signing in again. */
export const SESSION_SECONDS = 12 * 60 * 60;

const SESSION_ID = /^[0-9a-f]{64}$/;
const digest = (id: string) => createHash('sha256').update(id).digest('hex');

/**
 * Sessions of the console, in Redis so every `serve` process on it knows them and sign-out ends one for all.
 * Redis holds only each id's hash: reading Redis gives no session away.
 */
export class ConsoleSessions {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(id: string): string {
    return `${this.prefix}:console:session:${digest(id)}`;
  }

  async create(): Promise<string> {
    const id = randomBytes(32).toString('hex');
    await this.redis.set(this.key(id), '1', 'EX', SESSION_SECONDS);
    return id;
  }

  async valid(id: string | null): Promise<boolean> {
    if (id === null || !SESSION_ID.test(id)) return false;
    return (await this.redis.exists(this.key(id))) === 1;
  }

  async end(id: string | null): Promise<void> {
    if (id !== null && SESSION_ID.test(id)) await this.redis.del(this.key(id));
  }
}

/** The Set-Cookie value starting a session (Secure when the request came over HTTPS). */
export function sessionCookie(id: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_SECONDS}${secure ? '; Secure' : ''}`;
}

export function endedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}
