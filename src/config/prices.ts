import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';
import { readEnv, type Env } from './env.js';

/** Money is counted in millionths of the currency unit, so sums of prices like 0.001 stay exact. */
export const MICROS = 1_000_000;

/** The request kinds each provider makes, as REACHSCAN_PRICES names them. */
export const REQUEST_KINDS = {
  'identity-insights': ['lookup'],
  'device-status': ['token', 'bc-authorize', 'connectivity', 'roaming'],
  camara: ['token', 'bc-authorize', 'reachability', 'roaming'],
} as const satisfies Record<string, readonly string[]>;

/**
 * What each request costs: per provider and request kind, in millionths of `currency`. A kind the table does
 * not name costs nothing.
 */
export interface PriceTable {
  readonly currency: string;
  readonly micros: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

const CURRENCY = /^[A-Z]{3}$/;

/**
 * REACHSCAN_PRICES: a JSON file's path or the JSON itself, e.g.
 * `{"currency":"EUR","identity-insights":{"lookup":0.02}}`. Null when unset; a ConfigError (one line naming the
 * setting and the reason) when it is not a valid table.
 */
export function readPrices(env: Env): PriceTable | null {
  const text = readEnv(env, 'REACHSCAN_PRICES');
  if (text === undefined) return null;
  const source = text.startsWith('{') ? 'REACHSCAN_PRICES' : `REACHSCAN_PRICES (${text})`;
  let json: string;
  try {
    json = text.startsWith('{') ? text : readFileSync(text, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([`${source}: cannot read the file (${code})`]);
  }
  return parsePrices(json, source);
}

/** Checks a price table's JSON text; `source` names it in the one-line error. */
export function parsePrices(json: string, source = 'REACHSCAN_PRICES'): PriceTable {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new ConfigError([`${source}: not valid JSON`]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError([`${source}: must be a JSON object`]);
  const { currency, ...providers } = value as Record<string, unknown>;
  if (typeof currency !== 'string' || !CURRENCY.test(currency))
    throw new ConfigError([`${source}: "currency" must be a 3-letter code such as "EUR"`]);
  const micros: Record<string, Record<string, number>> = {};
  for (const [provider, kinds] of Object.entries(providers)) {
    micros[provider] = providerPrices(source, provider, kinds);
  }
  return { currency, micros };
}

function providerPrices(source: string, provider: string, kinds: unknown): Record<string, number> {
  const known: readonly string[] | undefined = (REQUEST_KINDS as Record<string, readonly string[]>)[provider];
  if (known === undefined)
    throw new ConfigError([
      `${source}: unknown provider "${provider}" (use ${Object.keys(REQUEST_KINDS).join(', ')})`,
    ]);
  if (typeof kinds !== 'object' || kinds === null || Array.isArray(kinds))
    throw new ConfigError([`${source}: "${provider}" must be an object of request kinds and prices`]);
  const prices: Record<string, number> = {};
  for (const [kind, price] of Object.entries(kinds as Record<string, unknown>)) {
    if (!known.includes(kind))
      throw new ConfigError([
        `${source}: unknown request kind "${provider}.${kind}" (use ${known.join(', ')})`,
      ]);
    if (typeof price !== 'number' || !Number.isFinite(price) || price < 0)
      throw new ConfigError([`${source}: "${provider}.${kind}" must be a price of 0 or more`]);
    prices[kind] = Math.round(price * MICROS);
  }
  return prices;
}

/** An amount in millionths, written with 2 decimals (more when a price needs them): 25.00, 0.001. */
export function formatMoney(micros: number, currency: string): string {
  const units = micros / MICROS;
  const decimals = Math.round(units * 100) * 10_000 === micros ? 2 : 6;
  return `${units.toFixed(decimals).replace(/(\.\d\d\d*?)0+$/, '$1')} ${currency}`;
}
