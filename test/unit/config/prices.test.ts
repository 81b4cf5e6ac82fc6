import { describe, expect, it } from 'vitest';
import { budgetProblem, parseBudget } from '../../../src/config/budget.js';
import { formatMoney, parsePrices, readPrices } from '../../../src/config/prices.js';
import { budgetReason } from '../../../src/batch/budget.js';

describe('REACHSCAN_PRICES', () => {
  it('reads a price per provider and request kind, in millionths of the currency', () => {
    const table = parsePrices(
      '{"currency":"EUR","identity-insights":{"lookup":0.02},"device-status":{"token":0.001,"bc-authorize":0.001,"connectivity":0.01,"roaming":0.01}}',
    );
    expect(table.currency).toBe('EUR');
    expect(table.micros['identity-insights']).toEqual({ lookup: 20_000 });
    expect(table.micros['device-status']?.token).toBe(1_000);
  });

  it('refuses bad tables with one line naming the setting and the reason', () => {
    const bad = (json: string) => () => parsePrices(json);
    expect(bad('{')).toThrow('REACHSCAN_PRICES: not valid JSON');
    expect(bad('[]')).toThrow('must be a JSON object');
    expect(bad('{"identity-insights":{"lookup":1}}')).toThrow('"currency" must be a 3-letter code');
    expect(bad('{"currency":"EUR","vonage":{}}')).toThrow('unknown provider "vonage"');
    expect(bad('{"currency":"EUR","camara":{"lookup":1}}')).toThrow('unknown request kind "camara.lookup"');
    expect(bad('{"currency":"EUR","camara":{"token":-1}}')).toThrow(
      '"camara.token" must be a price of 0 or more',
    );
    expect(bad('{"currency":"EUR","camara":{"token":"1"}}')).toThrow('must be a price');
  });

  it('takes JSON text or a file path, and is null when unset', () => {
    expect(readPrices({})).toBeNull();
    expect(readPrices({ REACHSCAN_PRICES: '{"currency":"USD"}' })?.currency).toBe('USD');
    expect(() => readPrices({ REACHSCAN_PRICES: '/nonexistent/prices.json' })).toThrow(
      'REACHSCAN_PRICES (/nonexistent/prices.json): cannot read the file (ENOENT)',
    );
  });

  it('writes money with 2 decimals, more only when a price needs them', () => {
    expect(formatMoney(25_000_000, 'EUR')).toBe('25.00 EUR');
    expect(formatMoney(2_370_000, 'EUR')).toBe('2.37 EUR');
    expect(formatMoney(1_000, 'EUR')).toBe('0.001 EUR');
  });
});

describe('--budget', () => {
  it('is a number of requests or an amount with its currency', () => {
    expect(parseBudget('500')).toEqual({ unit: 'requests', limit: 500 });
    expect(parseBudget('25EUR')).toEqual({ unit: 'money', limit: 25_000_000, currency: 'EUR' });
    expect(parseBudget('2.37 eur')).toEqual({ unit: 'money', limit: 2_370_000, currency: 'EUR' });
  });

  it('refuses anything else with one line naming the flag', () => {
    expect(() => parseBudget('0')).toThrow('--budget must be 1 request or more');
    expect(() => parseBudget('0EUR')).toThrow('--budget must be more than 0');
    expect(() => parseBudget('lots')).toThrow(/--budget must be a number of requests \(500\) or an amount/);
    expect(() => parseBudget('-5')).toThrow(/--budget must be/);
  });

  it('in money needs prices in the same currency', () => {
    const eur = parsePrices('{"currency":"EUR"}');
    expect(budgetProblem(parseBudget('25EUR'), null)).toBe(
      '--budget in money needs REACHSCAN_PRICES (a price per request)',
    );
    expect(budgetProblem(parseBudget('25USD'), eur)).toBe(
      '--budget is in USD but REACHSCAN_PRICES is in EUR',
    );
    expect(budgetProblem(parseBudget('25EUR'), eur)).toBeNull();
    expect(budgetProblem(parseBudget('500'), null)).toBeNull();
  });

  it('says why a batch paused in the words the docs promise', () => {
    expect(budgetReason('requests', 500, 500, '')).toBe('budget reached: 500 of 500 requests spent');
    expect(budgetReason('money', 25_000_000, 25_000_000, 'EUR')).toBe(
      'budget reached: 25.00 of 25.00 EUR spent',
    );
  });
});
