import type { FastifyInstance } from 'fastify';
import { maskPhone, parseE164, type CountryCode } from '../core/e164.js';
import { countryFlag } from '../config/options.js';
import { heldView } from '../history/held-view.js';
import { StateStore } from '../history/state-store.js';
import type { RedisClient } from '../queue/connection.js';
import type { ServerSettings } from './options.js';
import { HttpProblem } from './problem.js';

/** Numbers one `POST /forget` may name. */
const FORGET_MAX = 10_000;

export interface HistoryRouteDeps {
  readonly redis: RedisClient;
  readonly server: ServerSettings;
}

/**
 * `POST /history` (what is held about a number) and `POST /forget` (erase numbers). Numbers travel in JSON
 * bodies, never in the path or query string: those end up in access logs and proxies.
 */
export function registerHistoryRoutes(app: FastifyInstance, deps: HistoryRouteDeps): void {
  const store = new StateStore(deps.redis, deps.server.history, deps.server.stateSecret);
  const historySchema = {
    summary: 'What the history holds about one number',
    body: {
      type: 'object',
      required: ['number'],
      properties: { number: { type: 'string' }, default_country: { type: 'string' } },
    },
  };
  app.post('/history', { schema: historySchema }, async (request) => {
    const body = objectBody(request.body);
    const country = countryOf(body);
    const number = parseNumber(body.number, country, 'number');
    return heldView(number, await store.heldAbout(number));
  });
  const forgetSchema = {
    summary: 'Erases numbers from the history; says how many it held',
    body: {
      type: 'object',
      required: ['numbers'],
      properties: {
        numbers: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: FORGET_MAX },
        default_country: { type: 'string' },
      },
    },
  };
  app.post('/forget', { schema: forgetSchema }, async (request) => {
    const body = objectBody(request.body);
    const country = countryOf(body);
    const given = body.numbers;
    if (!Array.isArray(given) || given.length === 0 || given.length > FORGET_MAX)
      throw new HttpProblem(400, `"numbers" must be a list of 1 to ${FORGET_MAX} phone numbers`, {
        option: 'numbers',
      });
    const numbers = [...new Set(given.map((n, i) => parseNumber(n, country, `numbers[${i}]`)))];
    const held = await store.forget(numbers);
    return { asked: numbers.length, forgotten: held, not_held: numbers.length - held };
  });
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpProblem(400, 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function countryOf(body: Record<string, unknown>): CountryCode | undefined {
  const given = body.default_country;
  if (given === undefined || given === null || given === '') return undefined;
  try {
    if (typeof given !== 'string') throw new TypeError('not text');
    return countryFlag(given);
  } catch {
    throw new HttpProblem(400, '"default_country" must be an ISO country code such as GB', {
      option: 'default_country',
    });
  }
}

function parseNumber(value: unknown, country: CountryCode | undefined, field: string): string {
  const number = typeof value === 'string' ? parseE164(value, country) : null;
  if (number === null)
    throw new HttpProblem(
      400,
      `"${field}" must be a phone number${typeof value === 'string' ? ` (got ${maskPhone(value.trim())})` : ''}`,
      { option: field },
    );
  return number;
}
