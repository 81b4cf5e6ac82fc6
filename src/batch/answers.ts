import { decodeAnswer, type StoredAnswer } from '../core/answer.js';
import type { E164 } from '../core/e164.js';
import type { RedisClient } from '../queue/connection.js';

/** A group's answers, as far as the batch has them; numbers without one are missing from the map. */
export async function fetchAnswers(
  redis: RedisClient,
  /** The batch's answers hash (`batchKeys(…).answers`). */
  answersKey: string,
  numbers: readonly E164[],
): Promise<Map<E164, StoredAnswer>> {
  const map = new Map<E164, StoredAnswer>();
  if (numbers.length === 0) return map;
  const values = await redis.hmget(answersKey, ...numbers);
  numbers.forEach((n, i) => {
    const value = values[i];
    if (value !== null && value !== undefined) map.set(n, decodeAnswer(value));
  });
  return map;
}
