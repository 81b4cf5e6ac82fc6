import type {} from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Redis integration tests use: REDIS_URL, or a private redis-server for this run. */
    redisUrl: string;
    /** True when the test run started its own redis-server (persistence off). */
    redisIsPrivate: boolean;
  }
}
